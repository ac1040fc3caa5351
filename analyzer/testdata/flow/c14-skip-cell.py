# %% [markdown]
# # skip cell
# a skip cell is excluded (its rebinding of rows does not count); an untagged cell after it joins the step above the skip cell (Kale's meaning)
# %% [markdown]
# # skip
# %% tags=["step:load"]
# ins: -  outs: extra rows
rows = [1, 2, 3]
# %% tags=["skip"]
rows = []  # debugging only: excluded from the pipeline
# %%
extra = len(rows)
# %% tags=["step:total"]
# ins: extra(load) rows(load)  outs: -
print(sum(rows), extra)
