# %% [markdown]
# # unknown tag
# an unknown tag (limt:, a typo of limit:) is an error at its cell; the rest of the cell's tags still apply
# steps are the analysis with the bad tag ignored, as a live panel shows them next to the error.
# %% [markdown]
# # Unknown tag
# %% tags=["step:load"]
# ins: -  outs: x
x = 1
# %% tags=["step:use", "limt:memory:4Gi"]
# ins: x(load)  outs: -
print(x)
# want-cell: error unknown-tag
