# %% [markdown]
# # Store demand: helper functions that prepare train and test in place
# Helpers written once and applied to both frames; a small utility module
# written with %%writefile; the model fitted inside a helper.
# %%
import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_absolute_error
# %% [markdown]
# ## Load
# %%
rng = np.random.default_rng(4)
def fake_sales(start, days):
    dates = pd.date_range(start, periods=days, freq="D")
    frame = pd.DataFrame({"date": dates.strftime("%Y-%m-%d"),
                          "store": rng.integers(1, 4, days),
                          "promo": rng.random(days) < 0.3,
                          "notes": [None] * days})
    frame["sales"] = (100 + 20 * frame.store + 35 * frame.promo + rng.normal(0, 8, days)).round(1)
    return frame
train = fake_sales("2023-01-01", 240)
test = fake_sales("2023-08-29", 60)
print(train.shape, test.shape)
# %% [markdown]
# ## Utilities
# %%
%%writefile featutils.py
import numpy as np

def zscore(values):
    values = np.asarray(values, dtype=float)
    return (values - values.mean()) / values.std()
# %% [markdown]
# ## Feature helpers
# %%
def add_date_parts(frame, col):
    d = pd.to_datetime(frame[col])
    frame["month"] = d.dt.month
    frame["dow"] = d.dt.dayofweek
    frame["weekend"] = (frame["dow"] >= 5).astype(int)

def drop_empty(frame):
    empty = [c for c in frame.columns if frame[c].isna().all()]
    frame.drop(columns=empty, inplace=True)
    return empty

def prepare(frame):
    add_date_parts(frame, "date")
    dropped = drop_empty(frame)
    frame["promo"] = frame["promo"].astype(int)
    return dropped
# %% [markdown]
# ## Prepare both frames
# %%
print(prepare(train))
print(prepare(test))
print(train.columns.tolist())
print(test.head(3).to_string())
# %% [markdown]
# ## Scale with the utility module
# %%
from featutils import zscore
train["sales_z"] = zscore(train.sales).round(4)
print(train.sales_z.describe().round(3).to_dict())
# %% [markdown]
# ## Model
# %%
FEATURES = ["store", "promo", "month", "dow", "weekend"]
def fit_and_score(model, tr, te):
    model.fit(tr[FEATURES], tr.sales)
    return mean_absolute_error(te.sales, model.predict(te[FEATURES]))
forest = RandomForestRegressor(n_estimators=40, random_state=0, n_jobs=1)
# %%
%%time
mae = fit_and_score(forest, train, test)
# %%
print("MAE", round(mae, 3))
# %% [markdown]
# ## Importances
# %%
print(dict(zip(FEATURES, np.round(forest.feature_importances_, 3))))
print(forest.predict(test[FEATURES].head(3)).round(2))
