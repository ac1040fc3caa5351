# %% [markdown]
# # A maybe-write loads the earlier value only where it can be observed
# A step loads a name it binds only conditionally (a for target, an if branch, a try
# body, a handler, a walrus in a comprehension) only when the value from before the
# step may be seen: a read that no write of the step surely precedes, or a later step
# (or a metric) that loads the name from this step, whose saved value may then be the
# earlier one.
# read binds f as a loop target and reads it only inside the loop: it loads no f, so
# write never saves its closed file. read still comes after write: f walks a list of
# literal paths, so `open(f)` reads note.txt, which write wrote.
# %% tags=["block:write"]
# ins: -  outs: -
with open("note.txt", "w") as f:
    f.write("hello")
# %% tags=["block:read"]
# ins: -  outs: -  after: write
for f in ["note.txt"]:
    print(open(f).read())
# %% [markdown]
# ## Reads the write does not cover
# after_loop reads i after its loop (the loop may not run): it loads seed's i. In
# inside_if, x is read only in the branch that bound it: no load. In branches, y is
# bound in the if branch and read in the else branch: a load.
# %% tags=["block:seed"]
# ins: -  outs: i y
i, x, y = -1, 0, 0
# %% tags=["block:after_loop"]
# ins: i(seed)  outs: -
for i in range(0):
    pass
print(i)
# %% tags=["block:inside_if"]
# ins: -  outs: -
if len("ab") > 1:
    x = 2
    print(x)
    for _ in range(2):
        print(x + 1)
# %% tags=["block:branches"]
# ins: y(seed)  outs: -
if len("ab") > 5:
    y = 3
else:
    print(y)
# %% [markdown]
# ## try, else, except, while, for-else, a later cell
# In guarded, the try body binds z and the else clause (which runs only after the body
# ran to its end) reads it: no load; the handler reads w, which the body may not have
# bound: a load. drain binds item in a while body and reads it there: no load. scan
# reads k in its loop's else clause, which runs even when the loop never did: a load.
# split binds v in a loop in one cell and reads it in the next: a load.
# %% tags=["block:defaults"]
# ins: -  outs: k v w
z, w, k, v = 0, 0, 0, 0
# %% tags=["block:guarded"]
# ins: w(defaults)  outs: -
try:
    w = int("1")
    z = int("2")
except ValueError:
    print(w)
else:
    print(z)
# %% tags=["block:drain"]
# ins: -  outs: -
queue = [1, 2]
while queue:
    item = queue.pop()
    print(item)
# %% tags=["block:scan"]
# ins: k(defaults)  outs: -
for k in range(3):
    pass
else:
    print(k)
# %% tags=["block:split"]
# ins: v(defaults)  outs: -
for v in []:
    pass
# %%
print(v)
# %% [markdown]
# ## A later reader makes the maybe-writer load
# best is bound conditionally by pick, pick_again and pick_more, and none of them reads
# it. use reads best: it loads best from pick_more, which must save what it ends with,
# possibly pick_again's value, so it loads best from pick_again, which in turn loads it
# from pick, which loads it from init. The chain is the program's own: each step may
# keep the value it was given.
# %% tags=["block:init"]
# ins: -  outs: best scores
best = None
scores = [3, 9, 4]
# %% tags=["block:pick"]
# ins: best(init) scores(init)  outs: best
for s in scores:
    if s > 5:
        best = s
# %% tags=["block:pick_again"]
# ins: best(pick) scores(init)  outs: best
if max(scores) > 8:
    best = max(scores)
# %% tags=["block:pick_more"]
# ins: best(pick_again)  outs: best
try:
    best = int("x")
except ValueError:
    pass
# %% tags=["block:use"]
# ins: best(pick_more)  outs: -
print(best)
# %% [markdown]
# ## A call that may not happen
# maybe_reset calls reset (which rebinds the global counter) only under an if: the
# rebinding may not happen, so when report reads counter, maybe_reset loads counter
# from start. The function comes from start too.
# %% tags=["block:start"]
# ins: -  outs: counter reset
counter = 5


def reset():
    global counter
    counter = 0
# %% tags=["block:maybe_reset"]
# ins: counter(start) reset(start)  outs: counter
if len("x") > 3:
    reset()
# %% tags=["block:report"]
# ins: counter(maybe_reset)  outs: -
print(counter)
# %% [markdown]
# ## A del that may not happen
# cleanup deletes tmp only if it is long: tmp may still be there, so reading it next
# is no undefined-name error, and after_cleanup loads tmp from cleanup.
# %% tags=["block:make_tmp"]
# ins: -  outs: tmp
tmp = [1]
# %% tags=["block:cleanup"]
# ins: tmp(make_tmp)  outs: tmp
if len(tmp) > 5:
    del tmp
print(tmp)
# %% tags=["block:after_cleanup"]
# ins: tmp(cleanup)  outs: -
print(tmp)
