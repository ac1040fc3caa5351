# %% [markdown]
# # Empty block: and step: continue the previous step
# `block:` after fetch and `step:` after summarise (also across a markdown cell) add
# cells to those steps; only names a later step reads are outputs.
# %% tags=["block:fetch"]
# ins: -  outs: cleaned
raw = [1, 2, 3]
# %% tags=["block:"]
cleaned = [r for r in raw if r > 1]
# %% tags=["step:summarise"]
# ins: cleaned(fetch)  outs: mean
total = sum(cleaned)
# %% [markdown]
# Then the mean.
# %% tags=["step:"]
mean = total / len(cleaned)
# %% tags=["block:show"]
# ins: mean(summarise)  outs: -
print(mean)
