# %% [markdown]
# # A metric naming a pipeline parameter
# `print(d1)` in the pipeline-metrics cell names a parameter no step rebinds: as Kale
# does, it is reported (its value for the run), by the pipeline's last step, here
# summary, which lists d1 among its params. A metric naming a functions-cell constant
# (SCALE) is reported there too. total is reported by compute, its last writer; best,
# which pick binds only conditionally, by pick, which therefore loads the earlier best.
# No bad-metric warning.
# %% tags=["pipeline-parameters"]
d1 = 5
# %% tags=["functions"]
SCALE = 2
# %% tags=["block:compute"]
# ins: -  outs: best  params: d1
total = d1 * SCALE
best = 0
# %% tags=["block:pick"]
# ins: best(compute)  outs: -
for v in (3, 1):
    if v > 2:
        best = v
# %% tags=["block:summary"]
# ins: -  outs: -  params: d1
print("done")
# %% tags=["pipeline-metrics"]
print(d1)
print(total)
SCALE
best
