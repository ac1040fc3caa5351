# %% [markdown]
# # PyTorch quickstart, tutorial style
# Data, model, loss and optimizer, train/test functions and the training
# loop each get their own section, as in the official quickstart.
# %%
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
torch.set_num_threads(1)
# %% [markdown]
# ## Data
# %%
g = torch.Generator().manual_seed(0)
features = torch.randn(512, 10, generator=g)
true_w = torch.randn(10, 3, generator=g)
labels = (features @ true_w).argmax(dim=1)
train_data = TensorDataset(features[:400], labels[:400])
test_data = TensorDataset(features[400:], labels[400:])
train_dataloader = DataLoader(train_data, batch_size=64)
test_dataloader = DataLoader(test_data, batch_size=64)
for X, y in test_dataloader:
    print(f"Shape of X [N, F]: {X.shape}")
    print(f"Shape of y: {y.shape} {y.dtype}")
    break
# %% [markdown]
# ## Model
# %%
class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.stack = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3))

    def forward(self, x):
        return self.stack(x)

torch.manual_seed(0)
model = NeuralNetwork()
print(model)
# %% [markdown]
# ## Loss and optimizer
# %%
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
print(type(optimizer).__name__, optimizer.defaults["lr"])
# %% [markdown]
# ## Train and test functions
# %%
def train(dataloader, model, loss_fn, optimizer):
    model.train()
    for X, y in dataloader:
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return loss.item()

def test(dataloader, model, loss_fn):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            total += loss_fn(pred, y).item() * len(y)
            correct += (pred.argmax(1) == y).sum().item()
            n += len(y)
    return correct / n, total / n
# %% [markdown]
# ## Training loop
# %%
for t in range(5):
    last = train(train_dataloader, model, loss_fn, optimizer)
    acc, avg = test(test_dataloader, model, loss_fn)
    print(f"epoch {t + 1}: train loss {last:.4f}, test accuracy {100 * acc:.1f}%, test loss {avg:.4f}")
print("Done!")
# %% [markdown]
# ## Save and reload
# %%
torch.save(model.state_dict(), "model.pth")
reloaded = NeuralNetwork()
reloaded.load_state_dict(torch.load("model.pth"))
acc, _ = test(test_dataloader, reloaded, loss_fn)
print(f"reloaded accuracy {100 * acc:.1f}%")
