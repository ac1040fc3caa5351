# %% [markdown]
# # Builtins are not inputs unless a step shadows them
# config binds type and input (both builtin names): describe loads them. len, sorted,
# max, print and range are not shadowed and are not inputs. refit rebinds id before
# reading it, so it loads nothing.
# %% tags=["block:config"]
# ins: -  outs: input type
type = "ridge"
input = "data/train.csv"
id = 7
# %% tags=["block:describe"]
# ins: input(config) type(config)  outs: -
print(type, len(input), sorted([3, 1]), max(1, 2), list(range(2)))
# %% tags=["block:refit"]
# ins: -  outs: -
id = 8
print(id)
