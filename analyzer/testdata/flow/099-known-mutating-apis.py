# %% [markdown]
# # Known-mutating APIs change their argument
# A name passed to a call is only read, unless the API is known to change it in place:
# `random.shuffle(deck)`, `np.random.shuffle(arr)` and `setattr(cfg, ...)` change deck, arr
# and cfg, so mix loads and saves all three and report loads them from mix.
# `len(deck)` and `sorted(arr)` only read.
# %% tags=["imports"]
import random
import types

import numpy as np
# %% tags=["block:init"]
# ins: -  outs: arr cfg deck
deck = list(range(10))
arr = np.arange(10)
cfg = types.SimpleNamespace(depth=1)
# %% tags=["block:mix"]
# ins: arr(init) cfg(init) deck(init)  outs: arr cfg deck
random.seed(1)
np.random.seed(1)
random.shuffle(deck)
np.random.shuffle(arr)
setattr(cfg, "depth", 4)
print(len(deck), sorted(arr)[:2])
# %% tags=["block:report"]
# ins: arr(mix) cfg(mix) deck(mix)  outs: -
print(deck, arr, cfg.depth)
