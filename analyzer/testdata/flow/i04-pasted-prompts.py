# %% [markdown]
# Cells pasted from a doctest or an IPython session keep their prompts;
# IPython strips them.
# %% tags=["step:a"]
>>> x = 1
>>> print(x)
# ins: -  outs: x
# %% tags=["step:b"]
In [1]: y = x + 1
   ...: print(y)
# ins: x(a)  outs: -
