# %% [markdown]
# # A repeated step reading what a step in between writes is a cycle
# load runs as one unit at its first cell, but its second cell reads b, which mid (placed
# between load's cells) writes from load's a: mid needs load before it and load needs mid.
# The read of b is a cycle error; as placed, load takes b from init.
# %% tags=["block:init"]
# ins: -  outs: b
b = 0
# %% tags=["block:load"]
# ins: b(init)  outs: a c
a = 1
# %% tags=["block:mid"]
# ins: a(load)  outs: -
b = a + 1
# %% tags=["block:load"]
c = b * 2  # want: error cycle
# %% tags=["block:final"]
# ins: c(load)  outs: -
print(c)
