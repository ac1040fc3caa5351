# %% [markdown]
# # imports and functions cells, and the untagged cells after them
# The untagged cell after the imports cell is part of the imports; the one after the
# functions cell is part of the functions. None of them is a step or marshalled. The
# functions-cell function safe_log reads base_weight, a value a step writes: the step
# that calls it (transform) loads base_weight. jitter's random and EPS are shared names.
# %% tags=["imports"]
import math
# %%
import random
# %% tags=["functions"]
EPS = 1e-9


def safe_log(v):
    return math.log(max(v, EPS)) * base_weight
# %%
def jitter(v):
    return v + random.random() * EPS
# %% tags=["block:prepare"]
# ins: -  outs: base_weight values
base_weight = 2.0
values = [0.5, 1.5]
# %% tags=["block:transform"]
# ins: base_weight(prepare) values(prepare)  outs: -
print([safe_log(jitter(v)) for v in values])
