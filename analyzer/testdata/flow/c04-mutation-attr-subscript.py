# %% [markdown]
# # mutation attr subscript
# x.attr = ..., x[k] = ... and del x[k] make x both an input and an output of the step
# Box comes from a functions cell: prepended to every step, never marshalled, not a step input.
# %% [markdown]
# # Mutation by attribute and subscript assignment
# %% tags=["functions"]
class Box:
    pass
# %% tags=["step:make"]
# ins: -  outs: box counts
box = Box()
box.size = 1
counts = {"a": 0, "b": 0}
# %% tags=["step:bump"]
# ins: box(make) counts(make)  outs: box counts
box.size = 2
counts["a"] = 1
# %% tags=["step:trim"]
# ins: counts(bump)  outs: counts
del counts["b"]
# %% tags=["step:report"]
# ins: box(bump) counts(trim)  outs: -
print(box.size, counts)
