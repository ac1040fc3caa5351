# %% [markdown]
# # A syntax error in one cell
# broken's cell does not parse: a syntax error at its line. The other steps are still
# analysed: report reads values from load.
# %% tags=["block:load"]
# ins: -  outs: values
values = [1, 2, 3]
# %% tags=["block:broken"]
# ins: -  outs: -
oops = 1 +* 2  # want: error syntax-error
# %% tags=["block:report"]
# ins: values(load)  outs: -
print(values)
