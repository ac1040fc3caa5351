# %% [markdown]
# # A read a repeated step's maybe-write does not cover
# collect runs as one unit at its first cell. Its second cell rebinds best only
# conditionally and then reads it: where the loop did not bind it, that read sees the
# best standing at that cell, which is tune's, placed between collect's cells. collect
# would need tune both before and after it: a cycle error at the read. The read inside
# the if, which follows the write there, is no such read.
# %% tags=["block:init"]
# ins: -  outs: best
best = 0
# %% tags=["block:collect"]
# ins: best(init)  outs: items
items = [3, 1]
# %% tags=["block:tune"]
# ins: items(collect)  outs: best
best = max(items)
# %% tags=["block:collect"]
for v in items:
    if v > 5:
        best = v
        print("new best", best)
print(best)  # want: error cycle
# %% tags=["block:report"]
# ins: best(tune)  outs: -
print(best)
