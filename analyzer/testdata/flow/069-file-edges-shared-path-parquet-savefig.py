# %% [markdown]
# # File edges: a path constant from the functions cell, parquet, savefig
# CLEAN_PATH is bound to a string in the functions cell (a shared name, never loaded):
# to_parquet(CLEAN_PATH) writes it and read_parquet(CLEAN_PATH) reads it, an edge.
# early_peek reads the figure file before any step wrote it: no edge. plot reads back
# the file it wrote itself: no edge to itself. show reads the figure plot saved.
# %% tags=["imports"]
import pandas as pd
import matplotlib.pyplot as plt
# %% tags=["functions"]
CLEAN_PATH = "out/clean.parquet"
FIG_PATH = "out/fig.png"
# %% tags=["block:early_peek"]
# ins: -  outs: -
with open("out/fig.png", "rb") as fh:
    print(len(fh.read()))
# %% tags=["block:clean"]
# ins: -  outs: -
frame = pd.DataFrame({"v": [1.0, 2.0, 3.0]})
frame.to_parquet(CLEAN_PATH)
# %% tags=["block:plot"]
# ins: -  outs: -  after: clean
data = pd.read_parquet(CLEAN_PATH)
plt.plot(data.v)
plt.savefig(FIG_PATH)
with open(FIG_PATH, "rb") as fh:
    print(len(fh.read()) > 0)
# %% tags=["block:show"]
# ins: -  outs: -  after: plot
with open("out/fig.png", "rb") as fh:
    print(len(fh.read()) > 0)
