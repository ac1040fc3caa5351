# %% [markdown]
# # File edges: to_csv/read_csv and a path held in a name
# export writes out/data.csv and reload reads ./out/data.csv (the same path once
# cleaned): reload runs after export with no marshalled name; unrelated stays
# independent. summary_path is a module-level name bound to a string literal: the
# steps that use it load it, and the open(..., "w") / open(...) pair adds an edge.
# %% tags=["imports"]
import pandas as pd
# %% tags=["block:export"]
# ins: -  outs: -
frame = pd.DataFrame({"a": [1, 2]})
frame.to_csv("out/data.csv", index=False)
# %% tags=["block:unrelated"]
# ins: -  outs: -
print("independent")
# %% tags=["block:reload"]
# ins: -  outs: -  after: export
again = pd.read_csv("./out/data.csv")
print(again)
# %% tags=["block:paths"]
# ins: -  outs: summary_path
summary_path = "out/summary.txt"
# %% tags=["block:write_summary"]
# ins: summary_path(paths)  outs: -
with open(summary_path, "w") as fh:
    fh.write("rows: 2\n")
# %% tags=["block:read_summary"]
# ins: summary_path(paths)  outs: -  after: paths write_summary
with open(summary_path) as fh:
    print(fh.read())
