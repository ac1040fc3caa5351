# %% [markdown]
# # augmented assignment
# x += ... reads and redefines x; a name bound earlier in the same step and then augmented is not an input
# %% [markdown]
# # Augmented assignment
# %% tags=["step:init"]
# ins: -  outs: names score
score = 1
names = ["a"]
# %% tags=["step:grow"]
# ins: names(init) score(init)  outs: fresh names score
score += 2
names += ["b"]
fresh = 0
fresh += 1
# %% tags=["step:show"]
# ins: fresh(grow) names(grow) score(grow)  outs: -
print(score, names, fresh)
