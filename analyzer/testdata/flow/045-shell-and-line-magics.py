# %% [markdown]
# # Shell lines and line magics
# `!pip list` is a shell line (info only); `files = !ls data` binds files;
# `%matplotlib inline` binds nothing. `%time squares = ...` runs the statement in the
# user namespace and binds squares; `%timeit total = ...` runs in a namespace of its
# own and binds nothing, so report's read of total is an undefined name.
# %% tags=["block:env"]
# ins: -  outs: files
!pip list
files = !ls data
%matplotlib inline
# %% tags=["block:compute"]
# ins: files(env)  outs: n_files squares
%time squares = [v * v for v in range(1000)]
%timeit total = sum(squares)
n_files = len(files)
# %% tags=["block:report"]
# ins: n_files(compute) squares(compute)  outs: -
print(n_files, squares[:3])
print(total)  # want: error undefined-name
