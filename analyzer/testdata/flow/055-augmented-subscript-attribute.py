# %% [markdown]
# # Augmented assignment on items and attributes
# `stats["n"] += 1` and `cfg.depth += 1` change the containers in place: bump loads
# stats and cfg and saves both. `best = max(best, 3)` reads best before rebinding it.
# %% tags=["functions"]
class Config:
    depth = 1
# %% tags=["block:init"]
# ins: -  outs: best cfg stats
stats = {"n": 0}
cfg = Config()
best = 0
# %% tags=["block:bump"]
# ins: best(init) cfg(init) stats(init)  outs: best cfg stats
stats["n"] += 1
cfg.depth += 1
best = max(best, 3)
# %% tags=["block:report"]
# ins: best(bump) cfg(bump) stats(bump)  outs: -
print(stats, cfg.depth, best)
