# %% [markdown]
# # A loop variable reused across steps
# warmup and train both loop with `for epoch in ...`. A for target is a maybe-write, so
# train loads warmup's epoch (its value if the loop does not run) and report loads
# epoch from train.
# %% tags=["pipeline-parameters"]
EPOCHS = 3
# %% tags=["block:warmup"]
# ins: -  outs: epoch
for epoch in range(2):
    print("warmup", epoch)
# %% tags=["block:train"]
# ins: epoch(warmup)  outs: epoch losses  params: EPOCHS
losses = []
for epoch in range(EPOCHS):
    losses.append(1.0 / (epoch + 1))
# %% tags=["block:report"]
# ins: epoch(train) losses(train)  outs: -
print("stopped after epoch", epoch, losses)
