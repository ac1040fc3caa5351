# %% tags=["pipeline-parameters"]
SIZES = "1,2"
# %% tags=["step:parse"]
sizes = [int(x) for x in SIZES.split(",")]
print(sizes)
# %% tags=["step:report"]
print(SIZES)
