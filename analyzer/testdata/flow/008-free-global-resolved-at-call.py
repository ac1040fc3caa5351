# %% [markdown]
# # A function's free global is looked up when it is called
# flag reads threshold. early_flags calls it while init's threshold is current; after
# tune rebinds threshold, late_flags calls flag again and loads threshold from tune.
# define itself only defines flag and reads nothing.
# %% tags=["block:init"]
# ins: -  outs: threshold
threshold = 0.5
# %% tags=["block:define"]
# ins: -  outs: flag
def flag(v):
    return v > threshold
# %% tags=["block:early_flags"]
# ins: flag(define) threshold(init)  outs: early
early = [flag(v) for v in (0.3, 0.55, 0.7)]
# %% tags=["block:tune"]
# ins: -  outs: threshold
threshold = 0.6
# %% tags=["block:late_flags"]
# ins: early(early_flags) flag(define) threshold(tune)  outs: -
late = [flag(v) for v in (0.3, 0.55, 0.7)]
print(early, late)
