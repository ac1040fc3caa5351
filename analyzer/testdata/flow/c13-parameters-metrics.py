# %% [markdown]
# # parameters metrics
# pipeline-parameters (float, int, str, bool, negative, list, dict, None) are injected, not loaded: listed in params of the steps that use them; the pipeline-metrics cell is not a step
# The metrics cell (4) belongs to no step; each metric is reported by its last writer (evaluate), so it is not an output (outs lists only names a later STEP loads). EXTRA is used by no step. _metrics gives the expected `metrics` lists of the output (per step); the corpus checker compares steps, ins, outs, after and params.
# %% [markdown]
# # Pipeline parameters and metrics
# %% tags=["pipeline-parameters"]
LR = 0.1
EPOCHS = 3
NAME = "run"
DEBUG = False
SEED = -1
LAYERS = [4, 2]
OPTS = {"momentum": 0.9}
EXTRA = None
# %% tags=["step:train"]
# ins: -  outs: weights  params: DEBUG EPOCHS LR NAME OPTS SEED
weights = [LR * e for e in range(EPOCHS)]
if DEBUG:
    print(NAME, SEED, OPTS)
# %% tags=["step:evaluate"]
# ins: weights(train)  outs: -  params: LAYERS
accuracy = sum(weights) / len(LAYERS)
loss = 1 - accuracy
# %% tags=["pipeline-metrics"]
print(accuracy)
loss
