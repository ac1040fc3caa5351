# %% [markdown]
# # A path name rebound between writer and reader
# write opens p (then "a.txt") for writing. switch rebinds p to "b.txt", so read, which
# opens p, reads b.txt: no file edge from write (a different file), only the data and
# file edge from switch. write loads p from init; switch loads nothing.
# %% tags=["block:init"]
# ins: -  outs: p
p = "a.txt"
# %% tags=["block:write"]
# ins: p(init)  outs: -
with open(p, "w") as fh:
    fh.write("A")
# %% tags=["block:switch"]
# ins: -  outs: p
p = "b.txt"
with open("b.txt", "w") as fh:
    fh.write("B")
# %% tags=["block:read"]
# ins: p(switch)  outs: -
with open(p) as fh:
    print(fh.read())
