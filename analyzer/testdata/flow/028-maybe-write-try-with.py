# %% [markdown]
# # Maybe-writes under try and with
# read_config binds config inside a try body that may fail before the assignment: it
# loads config from defaults. read_text binds text inside `with suppress(...)`, whose
# body may be cut short: it loads text from defaults.
# %% tags=["imports"]
import contextlib
import json
# %% tags=["block:defaults"]
# ins: -  outs: config text
config = {}
text = ""
# %% tags=["block:read_config"]
# ins: config(defaults)  outs: config
try:
    config = json.loads('{"depth": 3}')
except ValueError:
    pass
# %% tags=["block:read_text"]
# ins: text(defaults)  outs: text
with contextlib.suppress(FileNotFoundError):
    text = open("notes.txt").read()
# %% tags=["block:report"]
# ins: config(read_config) text(read_text)  outs: -
print(config.get("depth"), len(text))
