# %% [markdown]
# # Walrus targets
# In scan, `(n := len(readings))` sits in an if test, which always runs: n is rebound
# unconditionally, so scan does not load init's n (and init does not save it).
# `(last_seen := r)` inside a filtered comprehension binds the module-level last_seen
# only if some element passes: a maybe-write, so scan loads init's last_seen and saves
# what it ends with.
# %% tags=["block:init"]
# ins: -  outs: last_seen
last_seen = None
n = 0
# %% tags=["block:data"]
# ins: -  outs: readings
readings = [4, 8, 15]
# %% tags=["block:scan"]
# ins: last_seen(init) readings(data)  outs: last_seen marks n
if (n := len(readings)) > 2:
    print("enough readings:", n)
marks = [(last_seen := r) for r in readings if r > 5]
# %% tags=["block:report"]
# ins: last_seen(scan) marks(scan) n(scan)  outs: -
print(n, last_seen, marks)
