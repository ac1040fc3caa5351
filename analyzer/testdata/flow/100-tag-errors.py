# %% [markdown]
# # Tag mistakes are reported at their cell; the steps are what the notebook says with the bad tags ignored
# %% tags=["block:load"]
# ins: -  outs: rows
rows = [1, 2, 3]
# %% tags=["block:clean", "limt:memory:4Gi"]
# ins: rows(load)  outs: kept
# want-cell: error unknown-tag
kept = [r for r in rows if r > 1]
# %% tags=["block:Report", "prev:load"]
# want-cell: error bad-step-name
print(len(kept))
# %% tags=["block:summary", "prev:later"]
# ins: kept(clean)  outs: -
# want-cell: error prev-unknown-step
print(sum(kept))
# %% tags=["block:later", "step:other"]
# ins: -  outs: -
# want-cell: error duplicate-step-tag
x = 1
