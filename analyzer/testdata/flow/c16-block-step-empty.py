# %% [markdown]
# # block step empty
# block:NAME and step:NAME are both step tags; an empty block: or step: continues the previous step
# %% [markdown]
# # block: and step:
# %% tags=["block:fetch"]
# ins: -  outs: items2
items = [1, 2]
# %% tags=["block:"]
items2 = items + [3]
# %% tags=["step:sum_up"]
# ins: items2(fetch)  outs: avg
total = sum(items2)
# %% tags=["step:"]
avg = total / len(items2)
# %% tags=["step:show"]
# ins: avg(sum_up)  outs: -
print(avg)
