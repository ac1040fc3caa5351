# %% [markdown]
# # A functions-cell function that calls a step's function
# run_all (functions cell) calls transform, which a step defines; transform reads gain.
# apply calls run_all: it loads transform (from define) and gain (from config), both
# reached through the call chain.
# %% tags=["functions"]
def run_all(xs):
    return [transform(x) for x in xs]
# %% tags=["block:config"]
# ins: -  outs: gain
gain = 3
# %% tags=["block:define"]
# ins: -  outs: transform
def transform(x):
    return x * gain
# %% tags=["block:apply"]
# ins: gain(config) transform(define)  outs: -
print(run_all([1, 2]))
