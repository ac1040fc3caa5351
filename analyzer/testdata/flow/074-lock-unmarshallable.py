# %% [markdown]
# # A lock saved for a later step
# `lock = threading.Lock()` is loaded by work: an unmarshallable warning on its line.
# The lock made and used inside work (local_lock) is never saved: no warning.
# %% tags=["imports"]
import threading
# %% tags=["block:setup"]
# ins: -  outs: lock
lock = threading.Lock()  # want: warning unmarshallable
# %% tags=["block:work"]
# ins: lock(setup)  outs: -
local_lock = threading.RLock()
with lock, local_lock:
    print("in the critical section")
