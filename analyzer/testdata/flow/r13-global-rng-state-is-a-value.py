# %% [markdown]
# # A global random generator's state is a value
# Calling a function of numpy's legacy global generator (np.random.seed, randint,
# shuffle, ...), of the random module (random.seed, shuffle after `from random import
# shuffle`) or of torch's (torch.manual_seed, torch.rand) reads and changes that
# generator's state: the pseudo-values __rng_numpy__, __rng_random__ and __rng_torch__.
# Steps drawing from one generator load the state the one before left, in notebook
# order; summary, which draws nothing, loads no state and stays beside them. A
# generator object (default_rng) is an ordinary value, and random.Random(...) is no
# draw. Aliases resolve through the import that bound them (npr, shuffle).
# %% tags=["block:setup"]
# ins: -  outs: __rng_numpy__ __rng_random__ rng
import numpy as np
import random
np.random.seed(42)
random.seed(1)
rng = np.random.default_rng(0)
# %% tags=["block:dice"]
# ins: __rng_numpy__(setup)  outs: __rng_numpy__ rolls
rolls = np.random.randint(1, 7, size=(10, 2))
# %% tags=["block:summary"]
# ins: rolls(dice)  outs: -
print(rolls.mean())
# %% tags=["block:more"]
# ins: __rng_numpy__(dice) __rng_random__(setup)  outs: deck
from numpy import random as npr
from random import shuffle
deck = list(range(10))
shuffle(deck)
extra = npr.permutation(5)
# %% tags=["block:own"]
# ins: rng(setup)  outs: -
r = random.Random(3)
print(rng.integers(0, 10), r.random())
# %% tags=["block:last"]
# ins: deck(more)  outs: -
print(deck)
