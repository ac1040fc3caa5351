# %% [markdown]
# # star import
# a star import inside a step is a dynamic-scope warning and that step loads every name an earlier step wrote (y too, though unused)
# pi comes from the star import and is not an undefined name.
# %% [markdown]
# # Star import
# %% tags=["step:a"]
# ins: -  outs: x y
x = 1
y = 2
# %% tags=["step:b"]
# ins: x(a) y(a)  outs: z
from math import *  # want: warning dynamic-scope
z = x + pi
# %% tags=["step:c"]
# ins: z(b)  outs: -
print(z)
