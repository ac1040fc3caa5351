# %% [markdown]
# # Which classifier? Fit several, then compare on held-out data
# The usual "dictionary of models" pattern: fit them all in one loop, then
# score and inspect them in later sections.
# %%
import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from sklearn.ensemble import RandomForestClassifier, GradientBoostingClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.metrics import accuracy_score, f1_score
# %% [markdown]
# ## Data
# %%
X, y = make_classification(n_samples=600, n_features=12, n_informative=6, n_redundant=2,
                           class_sep=0.8, random_state=3)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=3)
print(X_train.shape, X_test.shape, np.bincount(y_train))
# %% [markdown]
# ## Candidates
# %%
models = {
    "logreg": LogisticRegression(max_iter=1000),
    "tree": DecisionTreeClassifier(max_depth=5, random_state=0),
    "forest": RandomForestClassifier(n_estimators=60, random_state=0),
    "boosting": GradientBoostingClassifier(n_estimators=60, random_state=0),
    "bayes": GaussianNB(),
}
print(sorted(models))
# %% [markdown]
# ## Fit them all
# %%
for name, model in models.items():
    model.fit(X_train, y_train)
    print(f"fitted {name}")
# %% [markdown]
# ## Compare
# %%
rows = []
for name, model in models.items():
    pred = model.predict(X_test)
    rows.append((name, accuracy_score(y_test, pred), f1_score(y_test, pred)))
for name, acc, f1 in sorted(rows, key=lambda r: -r[1]):
    print(f"{name:<9} acc={acc:.3f} f1={f1:.3f}")
# %% [markdown]
# ## Inspect the forest
# %%
importances = models["forest"].feature_importances_
order = np.argsort(importances)[::-1][:5]
print([(int(i), round(float(importances[i]), 3)) for i in order])
