# %% [markdown]
# # skip cells
# The skip cells are excluded: the first one's rebinding of rows does not count, and the
# second one's undefined name is no error. The untagged cell after a skip cell joins
# the step above the skip cell (load), so n is written by load.
# %% tags=["block:load"]
# ins: -  outs: n rows
rows = [4, 5, 6]
# %% tags=["skip"]
rows = rows[:1]  # quick debugging, not part of the pipeline
# %%
n = len(rows)
# %% tags=["skip"]
print(some_debug_helper(rows))
# %% tags=["block:summary"]
# ins: n(load) rows(load)  outs: -
print(n, sum(rows))
