# %% [markdown]
# # match statements
# Capture patterns bind module-level names only when their case matches: factor is a
# maybe-write, so interpret loads factor from previous and saves what it ends with.
# `Level.HIGH` is a value pattern: it reads Level. `case _` binds nothing. by, name
# and rest are captures nobody reads later.
# %% tags=["block:load"]
# ins: -  outs: commands
commands = [{"op": "scale", "by": 2}, {"op": "shift", "by": 3}, {"op": "shift", "by": 4}, ["noop", 1]]
# %% tags=["block:previous"]
# ins: -  outs: Level factor
factor = 1


class Level:
    HIGH = 3
# %% tags=["block:interpret"]
# ins: Level(previous) commands(load) factor(previous)  outs: factor offset
offset = 0
for cmd in commands:
    match cmd:
        case {"op": "scale", "by": factor}:
            pass
        case {"op": "shift", "by": Level.HIGH}:
            offset += 100
        case {"op": "shift", "by": by}:
            offset += by
        case [name, *rest]:
            print("ignored", name, rest)
        case _:
            pass
# %% tags=["block:report"]
# ins: factor(interpret) offset(interpret)  outs: -
print(factor, offset)
