# %% [markdown]
# # Maybe-writes under if and while
# classify binds label only when score > 0.5, so it loads label from defaults (the
# value it keeps otherwise) and saves the result. drain binds item inside a while
# body that may not run: it loads item from defaults; `queue.pop()` mutates queue.
# %% tags=["block:defaults"]
# ins: -  outs: item label
label = "unknown"
item = None
# %% tags=["block:data"]
# ins: -  outs: queue score
score = 0.7
queue = [1, 2]
# %% tags=["block:classify"]
# ins: label(defaults) score(data)  outs: label
if score > 0.5:
    label = "positive"
# %% tags=["block:drain"]
# ins: item(defaults) queue(data)  outs: item queue
while queue:
    item = queue.pop()
# %% tags=["block:report"]
# ins: item(drain) label(classify) queue(drain)  outs: -
print(label, item, queue)
