# %% [markdown]
# # Customer churn with XGBoost (Kale-annotated)
# %% tags=["imports"]
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.model_selection import train_test_split
from sklearn.metrics import roc_auc_score, log_loss
# %% tags=["pipeline-parameters"]
N_ESTIMATORS = 80
MAX_DEPTH = 3
LEARNING_RATE = 0.1
SEED = 21
# %% tags=["block:make_customers"]
rng = np.random.default_rng(SEED)
n = 1500
customers = pd.DataFrame({
    "tenure": rng.integers(1, 72, n),
    "monthly": rng.normal(65, 20, n).round(2),
    "support_calls": rng.poisson(1.5, n),
    "contract": rng.choice(["month", "year", "two_year"], n, p=[0.55, 0.3, 0.15]),
    "paperless": rng.random(n) < 0.6,
})
logit = -1.0 + 0.6 * customers.support_calls - 0.04 * customers.tenure + 0.01 * customers.monthly \
        + customers.contract.map({"month": 1.2, "year": -0.3, "two_year": -1.5})
customers["churn"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
print(customers.churn.mean().round(4), len(customers))
# %% tags=["block:encode"]
encoded = pd.get_dummies(customers, columns=["contract"], drop_first=False, dtype=int)
encoded["paperless"] = encoded.paperless.astype(int)
encoded["calls_per_year"] = encoded.support_calls / (encoded.tenure / 12)
print(sorted(encoded.columns))
# %% tags=["block:split"]
X = encoded.drop(columns="churn")
y = encoded.churn
X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.2, stratify=y, random_state=SEED)
print(X_train.shape, X_valid.shape)
# %% tags=["block:train"]
model = xgb.XGBClassifier(n_estimators=N_ESTIMATORS, max_depth=MAX_DEPTH, learning_rate=LEARNING_RATE,
                          subsample=0.9, colsample_bytree=0.9, random_state=SEED, n_jobs=1,
                          eval_metric="logloss", tree_method="hist")
model.fit(X_train, y_train, eval_set=[(X_valid, y_valid)], verbose=False)
curve = model.evals_result()["validation_0"]["logloss"]
print(len(curve), round(curve[0], 4), round(curve[-1], 4))
# %% tags=["block:evaluate"]
proba = model.predict_proba(X_valid)[:, 1]
auc = roc_auc_score(y_valid, proba)
ll = log_loss(y_valid, proba)
print("AUC", round(auc, 4), "log loss", round(ll, 4))
# %% tags=["block:importance", "prev:train"]
imp = pd.Series(model.feature_importances_, index=X_train.columns).sort_values(ascending=False)
print(imp.round(4).head(5).to_string())
# %% tags=["block:native_api"]
dtrain = xgb.DMatrix(X_train, label=y_train)
booster = xgb.train({"max_depth": MAX_DEPTH, "eta": LEARNING_RATE, "objective": "binary:logistic", "seed": SEED,
                     "nthread": 1, "tree_method": "hist"}, dtrain, num_boost_round=20)
native_auc = roc_auc_score(y_valid, booster.predict(xgb.DMatrix(X_valid)))
print("native booster AUC", round(native_auc, 4))
# %% tags=["pipeline-metrics"]
print(auc)
print(native_auc)
