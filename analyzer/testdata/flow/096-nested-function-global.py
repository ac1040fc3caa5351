# %% [markdown]
# # A `global` declaration in a nested function
# inner (nested in run_twice) declares `global total` and adds to it. Calling run_twice
# runs inner, so loop loads total (from init) and saves it; report loads it from loop.
# %% tags=["block:init"]
# ins: -  outs: total
total = 0
# %% tags=["block:define"]
# ins: -  outs: run_twice
def run_twice(v):
    def inner():
        global total
        total += v

    inner()
    inner()
# %% tags=["block:loop"]
# ins: run_twice(define) total(init)  outs: total
run_twice(5)
# %% tags=["block:report"]
# ins: total(loop)  outs: -
print(total)
