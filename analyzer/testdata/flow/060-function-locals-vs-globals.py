# %% [markdown]
# # Function locals are not globals
# double assigns total locally, so calling it does not read the module-level total.
# work binds k before calling offset, so offset's k is work's own k: work loads nothing.
# data's k is overwritten by work before anyone reads it (not saved); report loads
# total from data and k from work.
# %% tags=["block:data"]
# ins: -  outs: total
total = 100
k = 1
# %% tags=["block:work"]
# ins: -  outs: k result
def double(v):
    total = v * 2
    return total


def offset(v):
    return v + k


k = 5
result = offset(double(3))
# %% tags=["block:report"]
# ins: k(work) result(work) total(data)  outs: -
print(total, result, k)
