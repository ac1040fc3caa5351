# %% [markdown]
# # file edge
# a string-literal path written by one step (open(p, "w")) and read by a later one (open(p)) adds an edge with no marshalled name; an unrelated step in between stays independent
# read binds fh itself before using it, so fh is not an input; its only dependency is the file.
# %% [markdown]
# # Files as edges
# %% tags=["step:write"]
# ins: -  outs: -
with open("out.txt", "w") as fh:
    fh.write("hello")
# %% tags=["step:other"]
# ins: -  outs: -
z = 1
print(z)
# %% tags=["step:read"]
# ins: -  outs: -  params: -  after: write
with open("out.txt") as fh:
    text = fh.read()
print(text)
