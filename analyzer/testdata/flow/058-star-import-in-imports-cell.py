# %% [markdown]
# # A star import in the imports cell
# `from math import *` in the imports cell is replayed in every step: no warning, and
# sqrt and pi are not undefined names or inputs.
# %% tags=["imports"]
from math import *
# %% tags=["block:radius"]
# ins: -  outs: r
r = sqrt(2.0)
# %% tags=["block:area"]
# ins: r(radius)  outs: -
print(pi * r ** 2)
