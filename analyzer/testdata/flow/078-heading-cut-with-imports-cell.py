# %% [markdown]
# # Heading cut with an imports cell
# Role tags (imports, functions) are not step tags: this notebook is still cut at its
# level-2 headings. The imports cell belongs to no step, and the code under each
# heading forms a step even though an imports cell came before it.
# %% tags=["imports"]
import statistics
# %% [markdown]
# ## Load
# %%
# ins: -  outs: xs
xs = [1, 4, 9]
# %% [markdown]
# ## Stats
# %%
# ins: xs(load)  outs: -
print(statistics.mean(xs))
