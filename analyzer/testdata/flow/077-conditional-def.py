# %% [markdown]
# # A def under if is a maybe-write
# override redefines fetch only when USE_CACHE is true, so it also loads define's fetch
# and saves whichever fetch it ends with; use calls fetch from override (and reads the
# free global cache, which only the cached variant uses).
# %% tags=["pipeline-parameters"]
USE_CACHE = True
# %% tags=["block:define"]
# ins: -  outs: fetch
def fetch(key):
    return key.upper()
# %% tags=["block:setup_cache"]
# ins: -  outs: cache
cache = {"a": "cached-a"}
# %% tags=["block:override"]
# ins: fetch(define)  outs: fetch  params: USE_CACHE
if USE_CACHE:
    def fetch(key):
        return cache.get(key, key.upper())
# %% tags=["block:use"]
# ins: cache(setup_cache) fetch(override)  outs: -
print(fetch("a"), fetch("b"))
