# %% [markdown]
# # A conditional import inside a step
# `try: import ujson as json_lib / except ImportError: import json as json_lib` binds
# json_lib to a module either way: it is replayed where used, never loaded or saved.
# %% tags=["block:setup"]
# ins: -  outs: payload
try:
    import ujson as json_lib
except ImportError:
    import json as json_lib
payload = {"a": 1}
# %% tags=["block:encode"]
# ins: payload(setup)  outs: -
print(json_lib.dumps(payload))
