# %% [markdown]
# # Module calls are not mutations; method calls on values are
# `np.random.seed(0)` and `np.random.default_rng(42)` are calls on a module (np, from
# the imports cell): no input, no output. `rng.normal(...)` is a method call on the
# generator value rng, which advances its state: sample_a loads rng and saves it, and
# sample_b loads rng from sample_a (not from seed).
# %% tags=["imports"]
import numpy as np
# %% tags=["block:seed"]
# ins: -  outs: rng
np.random.seed(0)
rng = np.random.default_rng(42)
# %% tags=["block:sample_a"]
# ins: rng(seed)  outs: a rng
a = rng.normal(size=3)
# %% tags=["block:sample_b"]
# ins: rng(sample_a)  outs: b
b = rng.normal(size=3)
# %% tags=["block:combine"]
# ins: a(sample_a) b(sample_b)  outs: -
print(np.concatenate([a, b]))
