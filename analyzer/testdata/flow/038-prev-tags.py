# %% [markdown]
# # prev: tags add edges
# warm_cache reads nothing but carries prev:download, so it runs after download. train
# reads status from download (a data edge) and carries prev:warm_cache: after lists both.
# %% tags=["block:download"]
# ins: -  outs: status
status = "ok"
# %% tags=["block:warm_cache", "prev:download"]
# ins: -  outs: -  after: download
print("warming the cache")
# %% tags=["block:train", "prev:warm_cache"]
# ins: status(download)  outs: -  after: download warm_cache
print("training after", status)
