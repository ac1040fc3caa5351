# %% [markdown]
# # Rebinding a name from the functions cell
# COLUMNS comes from the functions cell. widen rebinds it: a warning, and from then on
# COLUMNS is an ordinary variable. select calls pick (a functions-cell function whose
# free global is COLUMNS) and reads COLUMNS itself: it loads COLUMNS from widen.
# %% tags=["imports"]
import pandas as pd
# %% tags=["functions"]
COLUMNS = ["a", "b"]


def pick(frame):
    return frame[COLUMNS]
# %% tags=["block:load"]
# ins: -  outs: df
df = pd.DataFrame({"a": [1], "b": [2], "c": [3]})
# %% tags=["block:widen"]
# ins: -  outs: COLUMNS
COLUMNS = ["a", "b", "c"]  # want: warning shared-name-rebound
# %% tags=["block:select"]
# ins: COLUMNS(widen) df(load)  outs: -
print(pick(df))
print(len(COLUMNS))
