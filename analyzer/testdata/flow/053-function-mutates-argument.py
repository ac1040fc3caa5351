# %% [markdown]
# # A notebook function that changes its argument in place
# add_flag assigns `frame["flag"] = True` on its parameter, so `add_flag(rec)` changes
# rec: enrich loads rec and saves it, and report must load rec from enrich (from load it
# would miss the flag that running the notebook top to bottom shows).
# %% tags=["functions"]
def add_flag(frame):
    frame["flag"] = True
# %% tags=["block:load"]
# ins: -  outs: rec
rec = {"id": 1}
# %% tags=["block:enrich"]
# ins: rec(load)  outs: rec
add_flag(rec)
# %% tags=["block:report"]
# ins: rec(enrich)  outs: -
print(rec)
