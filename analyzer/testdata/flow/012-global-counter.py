# %% [markdown]
# # A `global` counter and a mutated free global
# tracked does `global calls; calls += 1` (read and rebind) and `history.append(v)`
# (mutation of a free global): the calling step loads calls and history from init and
# saves both. tools only defines tracked.
# %% tags=["block:init"]
# ins: -  outs: calls history
calls = 0
history = []
# %% tags=["block:tools"]
# ins: -  outs: tracked
def tracked(v):
    global calls
    calls += 1
    history.append(v)
    return v * 2
# %% tags=["block:run"]
# ins: calls(init) history(init) tracked(tools)  outs: calls doubled history
first = tracked(10)
doubled = [first] + [tracked(v) for v in range(3)]
# %% tags=["block:report"]
# ins: calls(run) doubled(run) history(run)  outs: -
print(calls, doubled, history)
