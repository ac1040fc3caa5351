# %% [markdown]
# # %%capture and %%bash cells
# `%%capture captured` runs its body as Python and binds captured: quiet writes weights
# and captured. A `%%bash` cell is not Python (its text is no Python names) but is still
# a step of its own, with no data inputs or outputs.
# %% tags=["block:quiet"]
%%capture captured
# ins: -  outs: captured weights
weights = [0.1, 0.2]
print("noisy log line")
# %% tags=["block:shell"]
%%bash
# ins: -  outs: -
echo "weights ready"
for f in weights captured; do echo $f; done
# %% tags=["block:report"]
# ins: captured(quiet) weights(quiet)  outs: -
print(captured.stdout, weights)
