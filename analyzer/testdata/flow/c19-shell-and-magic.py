# %% [markdown]
# # shell and magic
# a shell line (!ls) and a line magic (%time) are not syntax errors; the rest of the cell is analysed normally; the shell line gets an info diagnostic
# %% [markdown]
# # Shell lines and line magics
# %% tags=["step:listing"]
# ins: -  outs: files
!ls  # want: info shell-line
files = ["a.txt", "b.txt"]
# %% tags=["step:count"]
# ins: files(listing)  outs: -
%time sum(range(10))
n = len(files)
print(n)
