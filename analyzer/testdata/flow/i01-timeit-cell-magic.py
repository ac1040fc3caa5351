# %% [markdown]
# `%%timeit` runs its body in a namespace of its own, many times: what the
# body binds it reads itself, and nothing of it reaches the step.
# %% tags=["step:timed"]
%%timeit -n 1 -r 1
# ins: -  outs: -
total = 0
for i in range(10):
    total += i
# %% tags=["step:after"]
# ins: -  outs: -
print("done")
