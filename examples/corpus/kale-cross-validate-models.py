# %% [markdown]
# # Cross-validating a random forest against XGBoost (Kale-annotated)
# %% tags=["imports"]
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_validate, cross_val_predict
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import confusion_matrix
from xgboost import XGBClassifier
# %% tags=["pipeline-parameters"]
FOLDS = 3
SEED = 8
DIGITS = [3, 5, 8]
# %% tags=["block:load"]
digits = load_digits()
mask = np.isin(digits.target, DIGITS)
X = digits.data[mask]
y = np.searchsorted(DIGITS, digits.target[mask])
print(X.shape, np.bincount(y).tolist())
# %% tags=["block:setup_cv"]
cv = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
scoring = ["accuracy", "f1_macro"]
folds = [(len(tr), len(te)) for tr, te in cv.split(X, y)]
print(folds)
# %% tags=["block:forest"]
rf_cv = cross_validate(RandomForestClassifier(n_estimators=40, random_state=SEED, n_jobs=1), X, y,
                       cv=cv, scoring=scoring, return_train_score=True)
rf_acc = rf_cv["test_accuracy"].mean()
print("forest", np.round(rf_cv["test_accuracy"], 4), np.round(rf_cv["test_f1_macro"], 4))
# %% tags=["block:boosting"]
xgb_cv = cross_validate(XGBClassifier(n_estimators=40, max_depth=3, learning_rate=0.2, n_jobs=1,
                                      random_state=SEED, tree_method="hist"),
                        X, y, cv=cv, scoring=scoring)
xgb_acc = xgb_cv["test_accuracy"].mean()
print("xgboost", np.round(xgb_cv["test_accuracy"], 4), np.round(xgb_cv["test_f1_macro"], 4))
# %% tags=["block:table"]
table = pd.DataFrame({
    "forest": [rf_cv["test_accuracy"].mean(), rf_cv["test_f1_macro"].mean()],
    "xgboost": [xgb_cv["test_accuracy"].mean(), xgb_cv["test_f1_macro"].mean()],
}, index=["accuracy", "f1_macro"])
print(table.round(4))
winner = table.loc["accuracy"].idxmax()
print("winner:", winner)
# %% tags=["block:confusion"]
pred = cross_val_predict(RandomForestClassifier(n_estimators=40, random_state=SEED, n_jobs=1), X, y, cv=cv)
print(confusion_matrix(y, pred))
# %% tags=["pipeline-metrics"]
print(rf_acc)
print(xgb_acc)
