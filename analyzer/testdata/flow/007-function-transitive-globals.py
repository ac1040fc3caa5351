# %% [markdown]
# # A called function's free globals, transitively
# helpers only defines summarise and normalise (no call), so it reads nothing. apply
# calls summarise, which reads (and calls) normalise, which reads scale: apply loads
# both functions and scale, each from its last writer. max, sum, round and len are
# builtins, not inputs.
# %% tags=["block:config"]
# ins: -  outs: scale
scale = 10
# %% tags=["block:helpers"]
# ins: -  outs: normalise summarise
def normalise(values):
    top = max(values)
    return [v / top * scale for v in values]


def summarise(values):
    return round(sum(normalise(values)) / len(values), 2)
# %% tags=["block:data"]
# ins: -  outs: raw
raw = [2, 4, 8]
# %% tags=["block:apply"]
# ins: normalise(helpers) raw(data) scale(config) summarise(helpers)  outs: -
print(summarise(raw))
