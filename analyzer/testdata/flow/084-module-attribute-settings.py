# %% [markdown]
# # Setting attributes on modules is not a data flow
# `pd.options.display.max_rows = 10` and `plt.rcParams["figure.figsize"] = ...` change
# module state, not notebook variables: configure has no outputs, and plot (which
# draws from points) depends only on load.
# %% tags=["imports"]
import pandas as pd
import matplotlib.pyplot as plt
# %% tags=["block:load"]
# ins: -  outs: points
points = [1, 3, 2]
# %% tags=["block:configure"]
# ins: -  outs: -
pd.options.display.max_rows = 10
plt.rcParams["figure.figsize"] = (8, 4)
# %% tags=["block:plot"]
# ins: points(load)  outs: -
plt.plot(points)
