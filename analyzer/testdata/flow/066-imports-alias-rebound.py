# %% [markdown]
# # A variable named like an imported module
# The imports cell binds json. parse rebinds json to a dict: a warning, and json is an
# ordinary variable from then on, so show loads it from parse (no replayed import).
# dump, before parse, uses the module: nothing to load.
# %% tags=["imports"]
import json
# %% tags=["block:dump"]
# ins: -  outs: -
print(json.dumps({"a": 1}))
# %% tags=["block:parse"]
# ins: -  outs: json
json = {"a": 1, "b": 2}  # want: warning shared-name-rebound
# %% tags=["block:show"]
# ins: json(parse)  outs: -
print(json["b"])
