# %% [markdown]
# # A method chain on a frame is a method call on it
# `df.groupby(...).agg(...).reset_index()` calls a method on df: by the mutation rule
# summarise loads df AND redefines it, so a later reader of df loads it from summarise,
# not from load. Module calls (`plt.bar`) with attribute reads as arguments
# (`summary.region`) only read summary.
# %% tags=["imports"]
import pandas as pd
import matplotlib.pyplot as plt
# %% tags=["block:load"]
# ins: -  outs: df
df = pd.DataFrame({"region": ["n", "s", "n"], "sales": [10, 20, 30]})
# %% tags=["block:summarise"]
# ins: df(load)  outs: df summary
summary = df.groupby("region").agg(total=("sales", "sum")).reset_index()
# %% tags=["block:plot"]
# ins: summary(summarise)  outs: -
plt.bar(summary.region, summary.total)
plt.savefig("sales.png")
# %% tags=["block:share"]
# ins: df(summarise) summary(summarise)  outs: -
share = summary.total / df.sales.sum()
print(share)
