# %% [markdown]
# # A read before the step's own write, across its cells
# report's first cell reads level before report's second cell rebinds it: report loads
# level from prepare. What the second cell writes is what final loads.
# %% tags=["block:prepare"]
# ins: -  outs: level
level = 1
# %% tags=["block:report"]
# ins: level(prepare)  outs: level
print("level was", level)
# %%
level = 2
# %% tags=["block:final"]
# ins: level(report)  outs: -
print("level is", level)
