# %% [markdown]
# # markdown headings
# a notebook without step tags is cut at markdown ## headings; step name = slug of the heading; # and ### headings do not cut
# %% [markdown]
# # Sales report
# A level-1 title does not start a step.
# %% [markdown]
# ## Load data
# %%
# ins: -  outs: sales
sales = [3, 5, 8]
# %% [markdown]
# ## Clean-up step
# %%
# ins: sales(load_data)  outs: count
big = [s for s in sales if s > 4]
# %% [markdown]
# ### Notes
# A level-3 heading does not start a step.
# %%
count = len(big)
# %% [markdown]
# ## Final report
# %%
# ins: count(clean_up_step) sales(load_data)  outs: -
print(count, sales)
