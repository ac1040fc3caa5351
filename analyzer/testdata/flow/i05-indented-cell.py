# %% [markdown]
# A cell indented as a whole runs in IPython, which dedents it.
# %% tags=["step:a"]
  x = 1
  if x:
      print(x)
  # ins: -  outs: x
# %% tags=["step:b"]
# ins: x(a)  outs: -
print(x + 1)
