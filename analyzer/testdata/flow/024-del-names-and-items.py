# %% [markdown]
# # del
# `del raw` needs raw loaded and unbinds it (tidy does not save raw); `del lookup["b"]`
# mutates lookup (load and save); `temp` is bound and deleted inside tidy, so it is
# neither loaded nor saved. Later reads of raw and temp are undefined names.
# scratch is never read by a later step, so load does not save it.
# %% tags=["block:load"]
# ins: -  outs: lookup raw
raw = list(range(10))
lookup = {"a": 1, "b": 2}
scratch = 0
# %% tags=["block:tidy"]
# ins: lookup(load) raw(load)  outs: lookup sample
sample = raw[:3]
del raw
del lookup["b"]
temp = 5
del temp
# %% tags=["block:use"]
# ins: lookup(tidy) sample(tidy)  outs: -
print(sample, lookup)
# %% tags=["block:stale"]
# ins: -  outs: -
print(len(raw))  # want: error undefined-name
print(temp)  # want: error undefined-name
