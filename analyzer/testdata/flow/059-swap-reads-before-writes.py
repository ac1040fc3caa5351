# %% [markdown]
# # A swap reads both names before rebinding them
# `lo, hi = hi, lo` under an if reads lo and hi (and may rebind them): fix loads both from
# init and saves both. span, written by fix after the swap, reads fix's own lo and hi.
# %% tags=["block:init"]
# ins: -  outs: hi lo
lo, hi = 9, 1
# %% tags=["block:fix"]
# ins: hi(init) lo(init)  outs: hi lo span
if lo > hi:
    lo, hi = hi, lo
span = hi - lo
# %% tags=["block:report"]
# ins: hi(fix) lo(fix) span(fix)  outs: -
print(lo, hi, span)
