# %% [markdown]
# # Modules imported inside a step are replayed, never loaded
# setup imports `os.path` (binds os), `mean as avg` and collections. compute and
# report use those names: the import statements are replayed in them, so they are not
# inputs and setup does not save them. `collections.Counter(values)` and
# `os.path.basename(...)` are module calls, not mutations.
# %% tags=["block:setup"]
# ins: -  outs: values
import os.path
from statistics import mean as avg
import collections

values = [1, 2, 3, 3]
# %% tags=["block:compute"]
# ins: values(setup)  outs: counts m
m = avg(values)
counts = collections.Counter(values)
here = os.path.basename("/tmp/x.csv")
# %% tags=["block:report"]
# ins: counts(compute) m(compute)  outs: -
print(m, counts.most_common(1), os.getcwd())
