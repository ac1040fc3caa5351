# %% tags=["step:load"]
names = ["a.x", "b.y"]
# %% tags=["step:left"]
print(names[0].split(".")[-1])
# %% tags=["step:right"]
print(len(names))
