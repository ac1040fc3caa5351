# %% [markdown]
# # A notebook function that appends to its argument
# extend calls `bucket.append(item)` on its parameter, so `extend(items, 4)` and
# `extend(bucket=others, item=5)` (passed by keyword) change items and others: fill loads
# both and saves both, and report loads them from fill. `len(items)` only reads.
# %% tags=["block:define"]
# ins: -  outs: extend
def extend(bucket, item):
    bucket.append(item)
# %% tags=["block:init"]
# ins: -  outs: items others
items = [1, 2, 3]
others = []
# %% tags=["block:fill"]
# ins: extend(define) items(init) others(init)  outs: items others
extend(items, 4)
extend(bucket=others, item=5)
print(len(items))
# %% tags=["block:report"]
# ins: items(fill) others(fill)  outs: -
print(items, others)
