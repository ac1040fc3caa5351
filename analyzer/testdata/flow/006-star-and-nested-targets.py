# %% [markdown]
# # Star and nested assignment targets
# `head, *middle, tail = ranked` binds three names; `(lo, hi), n = ...` binds lo, hi
# and n. n is never read by a later step, so pairs does not save it.
# %% tags=["block:load"]
# ins: -  outs: ranked
ranked = ["ann", "bob", "cy", "dee"]
# %% tags=["block:unpack"]
# ins: ranked(load)  outs: head middle tail
head, *middle, tail = ranked
# %% tags=["block:pairs"]
# ins: -  outs: hi lo
(lo, hi), n = (1, 9), 2
# %% tags=["block:report"]
# ins: head(unpack) hi(pairs) lo(pairs) middle(unpack) tail(unpack)  outs: -
print(head, middle, tail, lo, hi)
