# %% [markdown]
# # The pipeline-metrics cell is no step
# accuracy and loss are reported by evaluate (their last writer); the metrics cell does
# not load them, so evaluate does not save them. evaluate's preds is loaded by report.
# %% tags=["block:train"]
# ins: -  outs: weights
weights = [0.2, 0.4]
# %% tags=["block:evaluate"]
# ins: weights(train)  outs: preds
preds = [w > 0.3 for w in weights]
accuracy = sum(preds) / len(preds)
loss = 1 - accuracy
# %% tags=["block:report"]
# ins: preds(evaluate)  outs: -
print(preds)
# %% tags=["pipeline-metrics"]
print(accuracy)
loss
