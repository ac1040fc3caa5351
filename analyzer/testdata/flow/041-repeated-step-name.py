# %% [markdown]
# # A step name used again later is one step
# prepare's second cell (after side) belongs to prepare, which runs as one unit at its
# first cell. It reads x from its own first cell and writes z; side writes nothing that
# prepare reads, so there is no cycle.
# %% tags=["block:prepare"]
# ins: -  outs: z
x = 1
# %% tags=["block:side"]
# ins: -  outs: y
y = 10
# %% tags=["block:prepare"]
z = x + 5
# %% tags=["block:final"]
# ins: y(side) z(prepare)  outs: -
print(y, z)
