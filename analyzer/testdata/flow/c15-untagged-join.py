# %% [markdown]
# # untagged join
# untagged code cells join the step above, also across a markdown cell; the step's cells list has every joined cell
# %% [markdown]
# # Untagged cells
# %% tags=["step:prep"]
# ins: -  outs: a c
a = 1
# %%
b = a + 1
# %% [markdown]
# Markdown between code cells does not end the step.
# %%
c = b * 2
# %% tags=["step:use"]
# ins: a(prep) c(prep)  outs: -
print(c)
# %%
d = c + a
print(d)
