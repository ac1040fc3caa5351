# %% [markdown]
# # prev later step
# prev: naming a step that only appears later in the notebook is an error at the cell carrying the prev: tag
# steps are the analysis with the bad prev: tag ignored.
# %% [markdown]
# # prev: naming a later step
# %% tags=["step:first", "prev:second"]
# ins: -  outs: a
a = 1
# want-cell: error prev-unknown-step
# %% tags=["step:second"]
# ins: -  outs: b
b = 2
# %% tags=["step:third"]
# ins: a(first) b(second)  outs: -
print(a, b)
