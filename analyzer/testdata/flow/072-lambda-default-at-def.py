# %% [markdown]
# # A lambda's default values are evaluated at definition
# `shift = lambda v, k=offset: v + k` reads offset when define runs (the body only reads
# its parameters). apply calls shift and reads nothing else; offset's later rebinding
# by tweak does not affect shift, and no step loads tweak's offset.
# %% tags=["block:config"]
# ins: -  outs: offset
offset = 10
# %% tags=["block:define"]
# ins: offset(config)  outs: shift
shift = lambda v, k=offset: v + k
# %% tags=["block:tweak"]
# ins: -  outs: -
offset = 99
# %% tags=["block:apply"]
# ins: shift(define)  outs: -
print(shift(1))
