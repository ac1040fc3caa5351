# %% [markdown]
# # Nested item, attribute and slice assignment mutate the root name
# `cfg["model"]["depth"] = 5`, `xs[1:3] = [...]`, `xs[:] = ...` and
# `run.meta.owner = ...` all change the object the root name holds: edit loads cfg, xs
# and run and saves them.
# %% tags=["imports"]
import types
# %% tags=["block:init"]
# ins: -  outs: cfg run xs
cfg = {"model": {"depth": 3}}
xs = [1, 2, 3, 4]
run = types.SimpleNamespace(meta=types.SimpleNamespace(owner="ann"))
# %% tags=["block:edit"]
# ins: cfg(init) run(init) xs(init)  outs: cfg run xs
cfg["model"]["depth"] = 5
xs[1:3] = [20, 30]
run.meta.owner = "bob"
# %% tags=["block:report"]
# ins: cfg(edit) run(edit) xs(edit)  outs: -
print(cfg, xs, run.meta.owner)
