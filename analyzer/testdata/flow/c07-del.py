# %% [markdown]
# # del
# del x unbinds x (the deleting step needs x loaded so that del can run, and does not save it); del x[k] mutates x; a later read of the deleted name is an undefined-name error
# After drop, no step has a binding of a, so stale neither loads it nor depends on anything.
# %% [markdown]
# # del
# %% tags=["step:make"]
# ins: -  outs: a b c
a = 1
b = 2
c = [1, 2, 3]
# %% tags=["step:drop"]
# ins: a(make) c(make)  outs: c
del a
del c[0]
# %% tags=["step:use"]
# ins: b(make) c(drop)  outs: -
print(b, c)
# %% tags=["step:stale"]
# ins: -  outs: -
print(a)  # NameError when run top to bottom  # want: error undefined-name
