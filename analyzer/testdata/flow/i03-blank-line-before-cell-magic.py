# %% [markdown]
# IPython drops leading blank lines before it looks for a cell magic: this
# is a `%%capture` cell, whose print is captured into `cap`.
# %% tags=["step:a"]

%%capture cap
# ins: -  outs: x
x = 1
print(x)
# %% tags=["step:b"]
# ins: x(a)  outs: -
print(x + 1)
