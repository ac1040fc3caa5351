# %% [markdown]
# # nonlocal inside nested functions is not module level
# make_counter's count is local to it; bump's `nonlocal count` refers to that local,
# not to the module-level count that setup wrote. Calling make_counter and the closure
# it returns reads no module-level name, so use loads only make_counter, and report
# still loads count from setup.
# %% tags=["block:setup"]
# ins: -  outs: count
count = 100
# %% tags=["block:factory"]
# ins: -  outs: make_counter
def make_counter(start):
    count = start

    def bump(step=1):
        nonlocal count
        count += step
        return count

    return bump
# %% tags=["block:use"]
# ins: make_counter(factory)  outs: ticks
counter = make_counter(0)
ticks = [counter() for _ in range(3)]
# %% tags=["block:report"]
# ins: count(setup) ticks(use)  outs: -
print(count, ticks)
