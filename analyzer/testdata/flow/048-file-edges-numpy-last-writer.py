# %% [markdown]
# # File edges: np.save/np.load, last writer, append mode
# Two steps write arrays/raw.npy; the reader's producer is the last writer before it
# (save_again), not save_first. `open(p, "a")` writes p, `open(p)` reads it.
# %% tags=["imports"]
import numpy as np
# %% tags=["block:save_first"]
# ins: -  outs: -
np.save("arrays/raw.npy", np.arange(5))
# %% tags=["block:save_again"]
# ins: -  outs: -
np.save("arrays/raw.npy", np.arange(10))
# %% tags=["block:load"]
# ins: -  outs: -  after: save_again
arr = np.load("arrays/raw.npy")
print(arr.sum())
# %% tags=["block:log_write"]
# ins: -  outs: -
with open("log.txt", "a") as log:
    log.write("loaded\n")
# %% tags=["block:log_read"]
# ins: -  outs: -  after: log_write
print(open("log.txt").read())
