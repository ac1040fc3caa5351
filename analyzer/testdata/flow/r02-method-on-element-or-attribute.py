# %% [markdown]
# # A method called on a value inside a name
# `names[0].split(".")` calls a method of an element of names, not of names: it reads
# names and changes nothing, so left and right, which only read names, stay independent
# (no edge between them), and names is saved by load only. The same holds for an
# attribute's method (`cfg.title.upper()`) and through a function that does it.
# %% tags=["imports"]
import types

import pandas as pd
# %% tags=["block:load"]
# ins: -  outs: cfg frame groups names shortest
names = ["a.x", "b.y"]
groups = {"a": [], "b": []}
cfg = types.SimpleNamespace(title="run", tags=[])
frame = pd.DataFrame({"v": [1.0, None]})


def shortest():
    return min(n.split(".")[0] for n in names)
# %% tags=["block:left"]
# ins: cfg(load) names(load)  outs: -
print(names[0].split(".")[-1])
print(cfg.title.upper())
# %% tags=["block:right"]
# ins: cfg(load) frame(load) names(load) shortest(load)  outs: -
print(len(names), shortest())
print(cfg.title.startswith("r"), frame["v"].isna().sum())
# %% [markdown]
# ## In-place methods of a value inside a name change the name
# Known in-place APIs called on an element or attribute (`groups["a"].append(…)`,
# `cfg.tags.extend(…)`, `frame["v"].fillna(…, inplace=True)`) change the value
# holding it: fill loads and saves groups, cfg and frame, and report loads them from
# fill.
# %% tags=["block:fill"]
# ins: cfg(load) frame(load) groups(load)  outs: cfg frame groups
groups["a"].append(1)
cfg.tags.extend(["x"])
frame["v"].fillna(0.0, inplace=True)
# %% tags=["block:report"]
# ins: cfg(fill) frame(fill) groups(fill)  outs: -
print(groups, cfg.tags, frame)
