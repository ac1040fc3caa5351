# %% tags=["pipeline-parameters"]
d1 = 5
# %% tags=["step:compute"]
total = d1 * 2
# %% tags=["pipeline-metrics"]
print(d1)
print(total)
