# %% [markdown]
# # A step that reassigns a parameter
# preview uses the THRESHOLD parameter. calibrate reads it (a param) and rebinds it: a
# warning, and later steps load THRESHOLD from calibrate instead, also when they read
# it through is_hit, a functions-cell function. BATCH stays a parameter.
# %% tags=["pipeline-parameters"]
THRESHOLD = 0.5
BATCH = 32
# %% tags=["functions"]
def is_hit(s):
    return s > THRESHOLD
# %% tags=["block:preview"]
# ins: -  outs: -  params: THRESHOLD
print("threshold", THRESHOLD)
# %% tags=["block:calibrate"]
# ins: -  outs: THRESHOLD  params: THRESHOLD
THRESHOLD = THRESHOLD * 0.9  # want: warning param-reassigned
# %% tags=["block:predict"]
# ins: THRESHOLD(calibrate)  outs: -  params: BATCH
scores = [0.3, 0.46, 0.7]
labels = [s > THRESHOLD for s in scores]
print(labels, is_hit(0.46), BATCH)
