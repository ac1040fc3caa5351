# %% [markdown]
# # A function only defined makes no uses
# define_only defines apply_rate without calling it, so it does not read rate.
# define_and_use defines discount and calls it in the same step, so it reads rate.
# final calls apply_rate and so loads rate itself.
# %% tags=["block:data"]
# ins: -  outs: rate
rate = 0.2
# %% tags=["block:define_only"]
# ins: -  outs: apply_rate
def apply_rate(x):
    return x * (1 + rate)
# %% tags=["block:define_and_use"]
# ins: rate(data)  outs: d
def discount(x):
    return x * (1 - rate)


d = discount(100)
# %% tags=["block:final"]
# ins: apply_rate(define_only) d(define_and_use) rate(data)  outs: -
print(apply_rate(10), d)
