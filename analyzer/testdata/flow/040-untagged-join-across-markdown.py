# %% [markdown]
# # Untagged cells join the step above, across markdown
# In a tagged notebook a `##` heading does not cut: scaled and extra are written by
# prep's later cells. The untagged cell after use belongs to use, so use loads scaled too.
# %% tags=["block:prep"]
# ins: -  outs: extra scaled
base = 10
# %% [markdown]
# Scale the base value.
# %%
scaled = base * 2
# %% [markdown]
# ## Notes (not a cut: this notebook has step tags)
# %%
extra = scaled + 1
# %% tags=["block:use"]
# ins: extra(prep) scaled(prep)  outs: -
print(extra)
# %%
print(scaled)
