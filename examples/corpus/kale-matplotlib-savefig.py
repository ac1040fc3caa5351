# %% [markdown]
# # Plotting steps that save figures (Kale-annotated)
# %% tags=["imports"]
import numpy as np
import matplotlib
import matplotlib.pyplot as plt
# %% tags=["pipeline-parameters"]
BINS = 15
DPI = 72
# %% tags=["block:data"]
rng = np.random.default_rng(3)
a = rng.normal(0, 1, 500)
b = rng.normal(1.5, 0.7, 500)
print(round(a.mean(), 4), round(b.mean(), 4))
# %% tags=["block:histogram"]
fig, ax = plt.subplots(figsize=(5, 3), dpi=DPI)
na, _, _ = ax.hist(a, bins=BINS, alpha=0.6, label="a")
nb, _, _ = ax.hist(b, bins=BINS, alpha=0.6, label="b")
ax.legend()
fig.savefig("hist.png")
print(int(na.sum()), int(nb.sum()), na.argmax(), nb.argmax())
# %% tags=["skip"]
plt.show()
# %% tags=["block:scatter"]
%matplotlib inline
plt.figure(figsize=(4, 4), dpi=DPI)
sc = plt.scatter(a[:200], b[:200], s=5, c=np.arange(200))
plt.xlabel("a")
plt.ylabel("b")
plt.savefig("scatter.png")
print(sc.get_offsets().shape, plt.gca().get_xlabel(), plt.gca().get_ylabel())
# %% tags=["block:check_images", "prev:histogram", "prev:scatter"]
for path in ["hist.png", "scatter.png"]:
    img = plt.imread(path)
    print(path, img.shape[:2], img.shape[2] in (3, 4))
print(matplotlib.get_backend().lower() in ("agg", "module://matplotlib_inline.backend_inline"))
