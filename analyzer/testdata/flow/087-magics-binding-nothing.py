# %% [markdown]
# # Line magics that bind nothing
# `%load_ext`, `%autoreload`, `%env` and `%config` bind no notebook names (the text after
# `%config` is not a Python assignment). work reads data from setup as usual.
# %% tags=["block:setup"]
# ins: -  outs: data
%load_ext autoreload
%autoreload 2
%env OMP_NUM_THREADS=1
%config InlineBackend.figure_format = "retina"
data = list(range(100))
# %% tags=["block:work"]
# ins: data(setup)  outs: result
result = sum(v * v for v in data)
# %% tags=["block:report"]
# ins: result(work)  outs: -
print(result)
print(InlineBackend)  # want: error undefined-name
