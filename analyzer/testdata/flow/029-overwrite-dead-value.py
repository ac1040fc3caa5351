# %% [markdown]
# # Dead values and rebinding before reading
# draft's threshold is overwritten by final before any step reads it, so draft does not
# save it and apply loads threshold from final. recheck rebinds notes before using it,
# so it loads nothing (audit still loads draft's notes).
# %% tags=["block:draft"]
# ins: -  outs: notes
threshold = 0.3
notes = ["draft"]
# %% tags=["block:audit"]
# ins: notes(draft)  outs: -
print(notes)
# %% tags=["block:final"]
# ins: -  outs: threshold
threshold = 0.8
# %% tags=["block:apply"]
# ins: threshold(final)  outs: -
print([v for v in (0.5, 0.9) if v > threshold])
# %% tags=["block:recheck"]
# ins: -  outs: -
notes = []
notes.append("fresh")
print(notes)
