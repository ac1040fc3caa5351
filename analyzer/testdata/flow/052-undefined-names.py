# %% [markdown]
# # Undefined names
# A typo (custmers) is an undefined name at its line. avg_spend is only defined by a
# later step, so reading it in report is undefined too. Neither becomes an input.
# %% tags=["block:load"]
# ins: -  outs: -
customers = ["ann", "bob"]
# %% tags=["block:count"]
# ins: -  outs: n
n = len(custmers)  # want: error undefined-name
# %% tags=["block:report"]
# ins: n(count)  outs: -
print(n)
print(avg_spend)  # want: error undefined-name
# %% tags=["block:later"]
# ins: -  outs: -
avg_spend = 10.0
