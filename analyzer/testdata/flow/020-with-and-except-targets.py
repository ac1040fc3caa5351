# %% [markdown]
# # with ... as and except ... as
# parse binds fh with `with open(...) as fh` before using it, so it loads no fh; it
# depends on write_cfg only through the file. The `except ... as exc` name is unbound
# when the handler ends, so leak's read of exc is an undefined name.
# %% tags=["block:write_cfg"]
# ins: -  outs: -
with open("config.txt", "w") as fh:
    fh.write("alpha=x\n")
# %% tags=["block:parse"]
# ins: -  outs: alpha problem  after: write_cfg
with open("config.txt") as fh:
    lines = fh.read().splitlines()
problem = None
try:
    alpha = float(lines[0].split("=")[1])
except (IndexError, ValueError) as exc:
    alpha = 0.0
    problem = str(exc)
# %% tags=["block:use"]
# ins: alpha(parse) problem(parse)  outs: -
print(alpha, problem)
# %% tags=["block:leak"]
# ins: -  outs: -
print(exc)  # want: error undefined-name
