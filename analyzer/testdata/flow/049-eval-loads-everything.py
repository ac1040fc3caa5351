# %% [markdown]
# # eval makes a step load every earlier value
# combine calls eval: a dynamic-scope warning, and combine loads every value an earlier
# step wrote and that is still bound: x and y (from a), double (a function from helpers).
# scratch was deleted inside helpers and math is a module (replayed): neither is loaded.
# %% tags=["block:a"]
# ins: -  outs: x y
x = 1
y = 2
# %% tags=["block:helpers"]
# ins: -  outs: double
import math


def double(v):
    return 2 * v


scratch = 0
del scratch
# %% tags=["block:combine"]
# ins: double(helpers) x(a) y(a)  outs: total
total = eval("x + y")  # want: warning dynamic-scope
print(math.pi)
# %% tags=["block:report"]
# ins: total(combine)  outs: -
print(total)
