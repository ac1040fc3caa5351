# %% [markdown]
# # globals() and exec
# Each of poke (globals()) and run_code (exec) gets a dynamic-scope warning and loads
# every value earlier steps wrote: counts and ratio, and for run_code also poke's names
# (not the module math). A parameter is injected, never loaded.
# %% tags=["pipeline-parameters"]
MODE = "fast"
# %% tags=["block:a"]
# ins: -  outs: counts
counts = {"n": 1}
# %% tags=["block:b"]
# ins: -  outs: ratio  params: MODE
import math

ratio = 0.5 if MODE == "fast" else math.sqrt(0.5)
# %% tags=["block:poke"]
# ins: counts(a) ratio(b)  outs: names
names = sorted(k for k in globals() if not k.startswith("_"))  # want: warning dynamic-scope
print(names)
# %% tags=["block:run_code"]
# ins: counts(a) names(poke) ratio(b)  outs: -
exec("print(counts['n'] * ratio)")  # want: warning dynamic-scope
