# %% [markdown]
# # File edges: joblib and torch
# `joblib.dump(model, p)` and `torch.save(weights, p)` write p; `joblib.load(p)` and
# `torch.load(p)` read it. serve depends on train only through the two files.
# %% tags=["imports"]
import joblib
import torch
# %% tags=["block:train"]
# ins: -  outs: -
model = {"coef": [0.5, 1.5]}
weights = torch.zeros(3)
joblib.dump(model, "models/model.joblib")
torch.save(weights, "models/weights.pt")
# %% tags=["block:serve"]
# ins: -  outs: -  after: train
loaded = joblib.load("models/model.joblib")
w = torch.load("models/weights.pt")
print(loaded["coef"], w.shape)
