# %% [markdown]
# # Pipeline parameters used directly and through functions
# train reads EPOCHS directly and LEARNING_RATE through schedule (a functions-cell
# function). report calls log_line, defined in an earlier step, which reads VERBOSE.
# Parameters are injected: they show in params, never in ins.
# %% tags=["pipeline-parameters"]
LEARNING_RATE = 0.01
EPOCHS = 5
VERBOSE = True
# %% tags=["functions"]
def schedule(epoch):
    return LEARNING_RATE / (1 + epoch)
# %% tags=["block:train"]
# ins: -  outs: history  params: EPOCHS LEARNING_RATE
history = [schedule(e) for e in range(EPOCHS)]
# %% tags=["block:define_log"]
# ins: -  outs: log_line
def log_line(msg):
    if VERBOSE:
        print(msg)
# %% tags=["block:report"]
# ins: history(train) log_line(define_log)  outs: -  params: VERBOSE
log_line(f"final lr {history[-1]:.4f}")
