# %% [markdown]
# # A conditional write after an unconditional one in the same step
# pick binds best unconditionally first, then maybe rebinds it in a loop: the step's
# value does not depend on seed's best, so pick loads no best (only cands). The loop
# target c has no earlier writer.
# %% tags=["block:seed"]
# ins: -  outs: cands
best = -1
cands = [3, 9, 4]
# %% tags=["block:pick"]
# ins: cands(seed)  outs: best
best = None
for c in cands:
    if best is None or c > best:
        best = c
# %% tags=["block:report"]
# ins: best(pick)  outs: -
print(best)
