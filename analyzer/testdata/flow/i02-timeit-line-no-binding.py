# %% [markdown]
# `%timeit STMT` reads what STMT reads; its bindings vanish, so the step
# prints the value loaded from setup (5), not the timed one (3).
# %% tags=["step:setup"]
# ins: -  outs: counts
counts = [0] * 5
# %% tags=["step:bench"]
# ins: counts(setup)  outs: -
%timeit -n 1 -r 1 counts = [1, 2, 3]
print(len(counts))
