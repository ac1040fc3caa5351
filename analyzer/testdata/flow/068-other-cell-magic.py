# %% [markdown]
# # A cell magic the analysis cannot read
# `%%html` is neither Python nor a shell magic: a cell-magic warning on its line. The
# cell is still a step (no data flow); the steps around it are analysed normally.
# %% tags=["block:compute"]
# ins: -  outs: value
value = 42
# %% tags=["block:banner"]
%%html  # want: warning cell-magic
# ins: -  outs: -
<b>value is computed above</b>
# %% tags=["block:report"]
# ins: value(compute)  outs: -
print(value)
