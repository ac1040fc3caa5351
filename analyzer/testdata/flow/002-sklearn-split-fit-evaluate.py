# %% [markdown]
# # scikit-learn: split, fit, evaluate
# `X_train, X_test, y_train, y_test = train_test_split(...)` binds four names at once;
# `model.fit(...)` is a method call on model, so the fitting step loads model from the
# step that built it and saves it again; the evaluating step takes model from fit.
# Names passed as arguments (X_train, y_test) are only read.
# %% tags=["imports"]
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
# %% tags=["pipeline-parameters"]
TEST_SIZE = 0.25
C = 1.0
SEED = 0
# %% tags=["block:load"]
# ins: -  outs: df
df = pd.read_csv("data/iris.csv")
# %% tags=["block:split"]
# ins: df(load)  outs: X_test X_train y_test y_train  params: SEED TEST_SIZE
features = [c for c in df.columns if c != "species"]
X = df[features]
y = df["species"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=TEST_SIZE, random_state=SEED)
# %% tags=["block:build_model"]
# ins: -  outs: model  params: C SEED
model = LogisticRegression(C=C, max_iter=200, random_state=SEED)
# %% tags=["block:fit"]
# ins: X_train(split) model(build_model) y_train(split)  outs: model
model.fit(X_train, y_train)
# %% tags=["block:evaluate"]
# ins: X_test(split) model(fit) y_test(split)  outs: -
pred = model.predict(X_test)
acc = accuracy_score(y_test, pred)
print(f"accuracy: {acc:.3f}")
