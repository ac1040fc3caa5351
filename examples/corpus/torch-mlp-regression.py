# %% [markdown]
# # A tiny PyTorch MLP on CPU
# %%
import numpy as np
import torch
from torch import nn
torch.set_num_threads(1)
# %% [markdown]
# ## Data
# %%
torch.manual_seed(0)
X = torch.linspace(-3, 3, 256).unsqueeze(1)
y = torch.sin(X) + 0.1 * torch.randn_like(X)
perm = torch.randperm(len(X))
train_idx, val_idx = perm[:200], perm[200:]
print(X.shape, y.shape, len(train_idx), len(val_idx))
print(round(float(y.mean()), 5))
# %% [markdown]
# ## Model
# %%
class MLP(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))
    def forward(self, x):
        return self.net(x)
torch.manual_seed(1)
model = MLP(hidden=32)
n_params = sum(p.numel() for p in model.parameters())
print(model)
print("parameters:", n_params)
# %% [markdown]
# ## Train
# %%
opt = torch.optim.Adam(model.parameters(), lr=0.01)
loss_fn = nn.MSELoss()
history = []
for epoch in range(150):
    model.train()
    opt.zero_grad()
    loss = loss_fn(model(X[train_idx]), y[train_idx])
    loss.backward()
    opt.step()
    if epoch % 30 == 0:
        history.append(round(loss.item(), 4))
print(history)
# %% [markdown]
# ## Evaluate
# %%
model.eval()
with torch.no_grad():
    val_loss = loss_fn(model(X[val_idx]), y[val_idx]).item()
    preds = model(torch.tensor([[-2.0], [0.0], [2.0]]))
print("validation MSE", round(val_loss, 4))
print(np.round(preds.squeeze().numpy(), 3))
# %% [markdown]
# ## A second, wider model from the same class
# %%
torch.manual_seed(2)
wide = MLP(hidden=64)
print(sum(p.numel() for p in wide.parameters()), "parameters in the wide model")
print(type(wide).__name__, isinstance(wide, MLP))
