# %% [markdown]
# # A parameter declared twice
# EPOCHS is declared twice in one parameters cell, LR once in each of two. Running the
# cells, the later value wins; the pipeline keeps one parameter of each name, with the
# later default (so the Workflow gets one argument per name), and warns at the later
# declaration.
# %% tags=["pipeline-parameters"]
LR = 0.1
EPOCHS = 2
EPOCHS = 3  # want: warning duplicate-parameter
# %% tags=["pipeline-parameters"]
LR = 0.01  # want: warning duplicate-parameter
# %% tags=["block:train"]
# ins: -  outs: -  params: EPOCHS LR
print(LR * EPOCHS)
