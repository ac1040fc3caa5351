# %% [markdown]
# # A Kale-style notebook end to end
# imports, functions, parameters and metrics cells; a skip cell; an untagged cell that
# joins its step; a prev: edge; a model fitted in one step and read by two independent
# ones (no edge between them): importances only reads an attribute of clf, and
# score_train, which calls a method on clf, comes after it.
# %% tags=["imports"]
import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
# %% tags=["pipeline-parameters"]
N_ESTIMATORS = 50
MAX_DEPTH = 4
DATA_URL = "data/train.csv"
# %% tags=["functions"]
def add_ratio(frame):
    return frame.assign(ratio=frame.a / (frame.b + 1))
# %% tags=["block:load_data"]
# ins: -  outs: raw  params: DATA_URL
raw = pd.read_csv(DATA_URL)
# %% tags=["skip"]
raw.describe()
# %% tags=["block:prepare"]
# ins: raw(load_data)  outs: X y
data = add_ratio(raw.dropna())
# %%
X = data[["a", "b", "ratio"]].to_numpy()
y = data["label"].to_numpy()
# %% tags=["block:train", "prev:load_data"]
# ins: X(prepare) y(prepare)  outs: clf  params: MAX_DEPTH N_ESTIMATORS  after: load_data prepare
clf = RandomForestClassifier(n_estimators=N_ESTIMATORS, max_depth=MAX_DEPTH, random_state=0)
clf.fit(X, y)
# %% tags=["block:importances"]
# ins: clf(train)  outs: -
print(np.round(clf.feature_importances_, 3))
# %% tags=["block:score_train"]
# ins: X(prepare) clf(train) y(prepare)  outs: -
train_acc = clf.score(X, y)
# %% tags=["pipeline-metrics"]
print(train_acc)
