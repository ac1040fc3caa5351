# %% tags=["step:a"]
>>> x = 1
>>> print(x)
# %% tags=["step:b"]
print(x + 1)
