# %% [markdown]
# ## time it
# %%
%%timeit
total = 0
for i in range(10):
    total += i
# %%
print("done")
