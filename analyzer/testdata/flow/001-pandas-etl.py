# %% [markdown]
# # A pandas ETL notebook, Kale-style
# %% tags=["imports"]
import pandas as pd
import numpy as np
# %% tags=["pipeline-parameters"]
THRESHOLD = 0.5
# %% tags=["block:load"]
# ins: -  outs: raw
raw = pd.DataFrame({"a": np.arange(10), "b": np.linspace(0, 1, 10)})
# %% tags=["block:clean"]
# ins: raw(load)  outs: clean  params: THRESHOLD
clean = raw[raw.b > THRESHOLD].copy()
clean["c"] = clean.a * 2
# %% tags=["block:summary"]
# ins: clean(clean)  outs: -
print(clean.describe())
print(missing_name)  # want: error undefined-name
