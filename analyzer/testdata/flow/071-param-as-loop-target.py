# %% [markdown]
# # A parameter used as a loop target
# `for LR in (...)` rebinds the parameter LR (a warning). The loop may not run, so sweep
# also uses the parameter's value, and report loads LR from sweep.
# %% tags=["pipeline-parameters"]
LR = 0.1
# %% tags=["block:sweep"]
# ins: -  outs: LR results  params: LR
results = {}
for LR in (0.1, 0.01):  # want: warning param-reassigned
    results[LR] = 1 - LR
# %% tags=["block:report"]
# ins: LR(sweep) results(sweep)  outs: -
print("last lr", LR, results)
