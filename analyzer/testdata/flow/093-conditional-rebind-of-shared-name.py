# %% [markdown]
# # A conditional rebinding of a functions-cell name
# tune rebinds THRESH only if strict is true: a shared-name-rebound warning. THRESH from
# the functions cell is present in every step (never loaded), so tune loads only strict;
# it saves whatever THRESH it ends with, and decide loads THRESH from tune.
# %% tags=["functions"]
THRESH = 0.5
# %% tags=["block:config"]
# ins: -  outs: strict
strict = True
# %% tags=["block:tune"]
# ins: strict(config)  outs: THRESH
if strict:
    THRESH = 0.7  # want: warning shared-name-rebound
# %% tags=["block:decide"]
# ins: THRESH(tune)  outs: -
print([v > THRESH for v in (0.6, 0.8)])
