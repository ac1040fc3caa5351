# %% [markdown]
# # Parameters in default values; a local that shadows a parameter
# define's `lr=LR` default reads the LR parameter when define runs. constant_epochs
# assigns EPOCHS locally, so calling it (in train) does not use the EPOCHS parameter.
# %% tags=["pipeline-parameters"]
LR = 0.05
EPOCHS = 10
# %% tags=["block:define"]
# ins: -  outs: constant_epochs step_size  params: LR
def step_size(epoch, lr=LR):
    return lr / (epoch + 1)


def constant_epochs():
    EPOCHS = 2
    return EPOCHS
# %% tags=["block:train"]
# ins: constant_epochs(define) step_size(define)  outs: -
print([step_size(e) for e in range(constant_epochs())])
