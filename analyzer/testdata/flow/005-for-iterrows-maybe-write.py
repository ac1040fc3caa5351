# %% [markdown]
# # for targets are maybe-writes
# A for loop may run zero times, and then its targets keep their previous values: the
# score step binds i and row in `for i, row in df.iterrows():`, so it also loads the
# i and row that peek wrote, and saves the values it ends with for report.
# (`df.iterrows()` is a method call on df, but no later step reads df.)
# %% tags=["imports"]
import pandas as pd
# %% tags=["block:load"]
# ins: -  outs: df
df = pd.DataFrame({"x": [1, 2, 3]})
# %% tags=["block:peek"]
# ins: df(load)  outs: i row
i, row = 0, df.iloc[0]
# %% tags=["block:score"]
# ins: df(load) i(peek) row(peek)  outs: i row scores
scores = []
for i, row in df.iterrows():
    scores.append(row.x * 2)
# %% tags=["block:report"]
# ins: i(score) row(score) scores(score)  outs: -
print(i, row.x, scores)
