# %% [markdown]
# # straight chain
# three steps, each reading what the previous one wrote: load -> double -> total
# %% [markdown]
# # Straight chain
# Each step reads only what the step before it wrote.
# %% tags=["step:load"]
# ins: -  outs: raw
raw = [3, 1, 2]
# %% tags=["step:double"]
# ins: raw(load)  outs: doubled
doubled = [v * 2 for v in raw]
# %% tags=["step:total"]
# ins: doubled(double)  outs: -
total = sum(doubled)
print(total)
