# %% [markdown]
# # Weekly report
# No step tags: the notebook is cut at level-2 headings. Code before the first of them
# forms start; a heading starting with a digit gets a step_ prefix; punctuation runs
# become one underscore and are trimmed; a level-3 heading does not cut; a repeated
# heading gets a _2 suffix.
# %%
# ins: -  outs: week
week = 12
# %% [markdown]
# ## 1. Load data
# %%
# ins: -  outs: rows
rows = [5, 7, 9]
# %% [markdown]
# ## Clean & filter!
# %%
# ins: rows(step_1_load_data)  outs: kept
kept = [r for r in rows if r > 5]
# %% [markdown]
# ### Detail
# %%
print(len(kept))
# %% [markdown]
# ## Plot
# %%
# ins: kept(clean_filter) week(start)  outs: -
print(week, kept)
# %% [markdown]
# ## Plot
# %%
# ins: rows(step_1_load_data)  outs: -
print(max(rows))
