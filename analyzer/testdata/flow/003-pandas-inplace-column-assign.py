# %% [markdown]
# # pandas in-place edits are mutations
# `df.drop(columns=..., inplace=True)` (a method call on df) and `df["c"] = ...`
# (subscript assignment) change df in place: each such step loads df from the last
# step that changed it and saves it again. `np.log1p(df["total"])` only reads df.
# %% tags=["imports"]
import numpy as np
import pandas as pd
# %% tags=["block:load"]
# ins: -  outs: df
df = pd.DataFrame({"price": [3.0, np.nan, 5.0], "qty": [1, 2, 3], "note": ["a", "b", "c"]})
# %% tags=["block:clean"]
# ins: df(load)  outs: df
df.drop(columns=["note"], inplace=True)
df["price"] = df["price"].fillna(2.0)
# %% tags=["block:features"]
# ins: df(clean)  outs: df
df["total"] = df["price"] * df["qty"]
df["log_total"] = np.log1p(df["total"])
# %% tags=["block:report"]
# ins: df(features)  outs: -
print(df.head())
