# %% [markdown]
# # last writer shadowing
# a name is loaded from its LAST writer before the reader; a step that rebinds a name before reading it loads nothing; a user name shadowing a builtin (max) is a real input, an unshadowed builtin (min) is not
# second writes value before reading it, so it has no input and no edge; report takes value from second (the last writer), not from first; first still saves max.
# %% [markdown]
# # Last writer and shadowing
# %% tags=["step:first"]
# ins: -  outs: max value
value = 1
max = 99  # shadows the builtin max
# %% tags=["step:peek"]
# ins: value(first)  outs: seen
seen = value
# %% tags=["step:second"]
# ins: -  outs: value
value = 2
value = value + 1  # reads its own new value, not first's
# %% tags=["step:report"]
# ins: max(first) seen(peek) value(second)  outs: -
print(value, seen, max, min(1, 2))
