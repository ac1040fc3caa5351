# %% [markdown]
# # explicit prev
# prev: adds an edge even with no data flowing (side after setup, finish after side) on top of the inferred ones (finish after setup, for x)
# %% [markdown]
# # Explicit prev:
# %% tags=["step:setup"]
# ins: -  outs: x
x = 1
# %% tags=["step:side", "prev:setup"]
# ins: -  outs: -  params: -  after: setup
y = 2
print(y)
# %% tags=["step:finish", "prev:side"]
# ins: x(setup)  outs: -  params: -  after: setup side
print(x)
