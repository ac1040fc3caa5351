# %% [markdown]
# # Augmented assignment to a parameter
# `EPOCHS += 2` reads the parameter and rebinds it: bump uses the EPOCHS parameter, gets
# a param-reassigned warning, and train loads EPOCHS from bump.
# %% tags=["pipeline-parameters"]
EPOCHS = 3
# %% tags=["block:bump"]
# ins: -  outs: EPOCHS  params: EPOCHS
EPOCHS += 2  # want: warning param-reassigned
# %% tags=["block:train"]
# ins: EPOCHS(bump)  outs: -
print(list(range(EPOCHS)))
