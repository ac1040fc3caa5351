# %% [markdown]
# # One dataset, three independent analyses, one summary (Kale-annotated)
# The three middle steps only read the loaded data, so they may run in parallel.
# %% tags=["imports"]
import numpy as np
import pandas as pd
from scipy import stats
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
# %% tags=["pipeline-parameters"]
N = 300
K = 3
# %% tags=["block:load"]
rng = np.random.default_rng(31)
centers = np.array([[0, 0], [4, 4], [0, 5]])
labels_true = rng.integers(0, 3, N)
points = centers[labels_true] + rng.normal(0, 0.8, (N, 2))
data = pd.DataFrame(points, columns=["x", "y"])
data["group"] = labels_true
data["flag"] = (data.x + data.y > 4).astype(int)
print(data.shape, data.group.value_counts().sort_index().tolist())
# %% tags=["block:describe"]
desc = data.groupby("group")[["x", "y"]].agg(["mean", "std"]).round(3)
print(desc.to_string())
t_stat, p_value = stats.ttest_ind(data.loc[data.group == 0, "x"], data.loc[data.group == 1, "x"])
print("t =", round(t_stat, 3), "p < 0.001:", p_value < 0.001)
# %% tags=["block:cluster"]
km = KMeans(n_clusters=K, n_init=10, random_state=0).fit(data[["x", "y"]])
sizes = sorted(np.bincount(km.labels_).tolist())
inertia = round(km.inertia_, 2)
print("cluster sizes", sizes, "inertia", inertia)
# %% tags=["block:classify"]
clf = LogisticRegression().fit(data[["x", "y"]], data.flag)
flag_acc = round(clf.score(data[["x", "y"]], data.flag), 4)
print("flag accuracy", flag_acc)
# %% tags=["block:summary"]
print({"sizes": sizes, "inertia": inertia, "flag_acc": flag_acc, "significant": bool(p_value < 0.001)})
# %% tags=["pipeline-metrics"]
inertia
flag_acc
