# %% [markdown]
# # imports functions cells
# imports/functions cells (and untagged cells after them) are prepended to every step, belong to no step and are never marshalled; modules imported inside a step are never marshalled either; a functions-cell function's free global (suffix) is a use of the step that calls it
# json, osp, OrderedDict, SEP, dump and the step-level module statistics are never inputs or outputs (a module attribute call like osp.join or statistics.mean is not a mutation). Cell 2 is untagged after an imports cell, so (Kale's meaning) it is part of the imports, not of a step.
# %% [markdown]
# # imports and functions cells
# %% tags=["imports"]
import json
import os.path as osp
# %%
from collections import OrderedDict  # untagged: joins the imports cell above
# %% tags=["functions"]
SEP = "/"


def dump(obj):
    return json.dumps(obj, sort_keys=True) + suffix
# %% tags=["step:build"]
# ins: -  outs: mean record suffix
import statistics
suffix = "!"
record = OrderedDict(path=osp.join("a", "b"), sep=SEP)
mean = statistics.mean([1, 2, 3])
# %% tags=["step:emit"]
# ins: mean(build) record(build) suffix(build)  outs: -
print(dump(record), statistics.median([1, 2]), mean)
