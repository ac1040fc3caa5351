# %% [markdown]
# ## 4.4 GridSearchCV evaluating using multiple scorers, RepeatedStratifiedKFold and pipeline for preprocessing simultaneously
# %%
x = 1
print(x)
