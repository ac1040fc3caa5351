# %% [markdown]
# # Array APIs that change an argument in place
# A ufunc's `.at` (`np.add.at(counts, …)`, also through `from numpy import add`),
# np.put, np.put_along_axis, np.copyto, np.place, np.putmask, np.fill_diagonal,
# np.random.shuffle and random.shuffle change their first argument; any call with
# `out=a` (or `out=(q, r)`) writes into a. So accumulate loads and saves every one of
# them, and report loads them from accumulate. summarise only reads (np.sum, np.sort,
# np.add without out=): it loads from init and sits beside accumulate.
# %% tags=["imports"]
import random

import numpy as np
from numpy import add
# %% tags=["block:init"]
# ins: -  outs: a b counts deck dst m mask q r tally
counts = np.zeros(3)
tally = np.zeros(3)
a = np.arange(6.0)
b = np.arange(6.0)
dst = np.zeros(6)
m = np.ones((3, 3))
mask = np.arange(6) > 2
q, r = np.zeros(6), np.zeros(6)
deck = list(range(5))
# %% tags=["block:summarise"]
# ins: a(init) b(init) counts(init)  outs: -
print(np.sum(counts), np.sort(a), np.add(a, b))
# %% tags=["block:accumulate"]
# ins: a(init) b(init) counts(init) deck(init) dst(init) m(init) mask(init) q(init) r(init) tally(init)  outs: a b counts deck dst m mask q r tally
random.seed(0)
np.random.seed(0)
np.add.at(counts, [0, 0, 2], 1)
add.at(tally, [1], 5)
np.put(a, [0], 9.0)
np.put_along_axis(m, np.array([[0], [1], [2]]), 0.0, axis=1)
np.copyto(dst, b)
np.place(b, mask, 7.0)
np.putmask(mask, mask, False)
np.fill_diagonal(m, 2.0)
np.random.shuffle(deck)
random.shuffle(deck)
np.multiply(a, 2, out=a)
np.divmod(b, 3, out=(q, r))
# %% tags=["block:report"]
# ins: a(accumulate) b(accumulate) counts(accumulate) deck(accumulate) dst(accumulate) m(accumulate) mask(accumulate) q(accumulate) r(accumulate) tally(accumulate)  outs: -
print(counts, tally, a, b, dst, m, mask, q, r, deck)
