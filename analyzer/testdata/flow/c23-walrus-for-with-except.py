# %% [markdown]
# # walrus for with except
# walrus (also inside a comprehension), for, with ... as targets bind module names; an except ... as name is unbound when the handler ends, so a later read of it is an undefined-name error
# v (comprehension variable) does not leak; biggest (walrus inside the comprehension) binds in the module scope.
# %% [markdown]
# # walrus, for, with, except targets
# %% tags=["imports"]
import contextlib
# %% tags=["step:produce"]
# ins: -  outs: data
data = [3, 1, 4]
# %% tags=["step:bind"]
# ins: data(produce)  outs: biggest count five flags item message
for item in data:
    pass
if (count := len(data)) > 2:
    print(count)
flags = [(biggest := v) > 2 for v in data]
with contextlib.nullcontext(5) as five:
    pass
try:
    int("x")
except ValueError as err:
    message = str(err)
# %% tags=["step:use"]
# ins: biggest(bind) count(bind) five(bind) flags(bind) item(bind) message(bind)  outs: -
print(item, count, biggest, flags, five, message)
# %% tags=["step:leak"]
# ins: -  outs: -
print(err)  # NameError: err was cleared at the end of the except clause  # want: error undefined-name
