# %% [markdown]
# # A parameter that is not a literal
# `BATCH = 2 ** 5` is an expression, not a literal: a bad-parameter error on its line.
# The other parameters (a list spread over lines with comments) still apply: train uses
# LAYERS and NAME.
# %% tags=["pipeline-parameters"]
NAME = "mlp"  # the run name
BATCH = 2 ** 5  # want: error bad-parameter
LAYERS = [
    64,  # first hidden layer
    32,
]
# %% tags=["block:train"]
# ins: -  outs: -  params: LAYERS NAME
print(NAME, sum(LAYERS))
