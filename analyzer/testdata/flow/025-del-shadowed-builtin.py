# %% [markdown]
# # Deleting a name that shadows a builtin
# shadow binds sum (a real input of report). restore deletes it (loading it first), so
# from then on `sum` is the builtin again: total reads no input and is no error.
# %% tags=["block:shadow"]
# ins: -  outs: sum
sum = 0
for v in [1, 2, 3]:
    sum += v
# %% tags=["block:report"]
# ins: sum(shadow)  outs: -
print("running sum:", sum)
# %% tags=["block:restore"]
# ins: sum(shadow)  outs: -
del sum
# %% tags=["block:total"]
# ins: -  outs: -
print(sum([1, 2, 3]))
