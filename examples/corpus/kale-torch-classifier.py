# %% [markdown]
# # Two-moons classifier in PyTorch (Kale-annotated)
# The network class lives in the functions cell, so every step has it.
# %% tags=["imports"]
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import TensorDataset, DataLoader
from sklearn.datasets import make_moons
# %% tags=["pipeline-parameters"]
EPOCHS = 12
LR = 0.05
BATCH = 32
HIDDEN = 16
# %% tags=["functions"]
torch.set_num_threads(1)

class MoonNet(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.fc2 = nn.Linear(hidden, 2)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))

def accuracy(net, X, y):
    with torch.no_grad():
        return (net(X).argmax(1) == y).float().mean().item()
# %% tags=["block:data"]
X_np, y_np = make_moons(n_samples=600, noise=0.2, random_state=4)
X_all = torch.tensor(X_np, dtype=torch.float32)
y_all = torch.tensor(y_np, dtype=torch.long)
X_train, y_train = X_all[:480], y_all[:480]
X_test, y_test = X_all[480:], y_all[480:]
print(X_train.shape, X_test.shape, y_train.float().mean().item())
# %% tags=["block:train"]
torch.manual_seed(0)
net = MoonNet(HIDDEN)
opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=0.9)
loader = DataLoader(TensorDataset(X_train, y_train), batch_size=BATCH, shuffle=True,
                    generator=torch.Generator().manual_seed(0))
losses = []
for epoch in range(EPOCHS):
    total = 0.0
    for xb, yb in loader:
        opt.zero_grad()
        loss = F.cross_entropy(net(xb), yb)
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
    losses.append(total / len(X_train))
    if epoch % 4 == 3:
        print(f"epoch {epoch + 1:2d} loss {losses[-1]:.4f}")
# %% tags=["block:evaluate"]
test_acc = accuracy(net, X_test, y_test)
train_acc = accuracy(net, X_train, y_train)
print(f"train {train_acc:.4f} test {test_acc:.4f}")
# %% tags=["block:inspect"]
with torch.no_grad():
    grid = torch.tensor([[-1.0, 0.5], [0.0, 0.0], [1.0, -0.5], [2.0, 0.5]])
    probs = F.softmax(net(grid), dim=1)[:, 1]
print(np.round(probs.numpy(), 3))
print({name: tuple(p.shape) for name, p in net.named_parameters()})
# %% tags=["block:save_model"]
torch.save(net.state_dict(), "moonnet.pt")
restored = MoonNet(HIDDEN)
restored.load_state_dict(torch.load("moonnet.pt"))
print("restored test accuracy", round(accuracy(restored, X_test, y_test), 4))
# %% tags=["pipeline-metrics"]
print(test_acc)
