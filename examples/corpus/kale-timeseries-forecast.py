# %% [markdown]
# # Forecasting hourly bike rentals with lag features (Kale-annotated)
# %% tags=["imports"]
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_absolute_error
# %% tags=["pipeline-parameters"]
LAGS = [1, 24]
WINDOW = 6
HOLDOUT_DAYS = 7
SEED = 0
# %% tags=["block:generate"]
hours = pd.date_range("2023-05-01", periods=24 * 42, freq="H")
rng = np.random.default_rng(SEED)
daily = 40 + 30 * np.sin((np.asarray(hours.hour) - 6) / 24 * 2 * np.pi).clip(0)
rentals = pd.DataFrame({"rentals": (daily + rng.normal(0, 5, len(hours))).clip(0).round()}, index=hours)
rentals.index.name = "ts"
print(rentals.shape, rentals.index.min(), rentals.index.max())
print(rentals.rentals.describe().round(2).to_dict())
# %% tags=["block:features"]
feat = rentals.copy()
for lag in LAGS:
    feat[f"lag_{lag}"] = feat.rentals.shift(lag)
feat[f"roll_mean_{WINDOW}"] = feat.rentals.shift(1).rolling(WINDOW).mean()
feat["hour"] = feat.index.hour
feat["is_weekend"] = (feat.index.dayofweek >= 5).astype(int)
feat.loc[feat.index.hour.isin([7, 8, 17, 18]), "rush"] = 1
feat["rush"] = feat["rush"].fillna(0).astype(int)
feat.dropna(inplace=True)
print(feat.shape)
print(feat.head(3).to_string())
# %% tags=["block:split"]
cutoff = feat.index.max() - pd.Timedelta(days=HOLDOUT_DAYS)
train, test = feat[feat.index <= cutoff], feat[feat.index > cutoff]
cols = [c for c in feat.columns if c != "rentals"]
print(len(train), len(test), cols)
# %% tags=["block:baseline"]
naive = test[f"lag_24"]
baseline_mae = mean_absolute_error(test.rentals, naive)
print("seasonal naive MAE", round(baseline_mae, 3))
# %% tags=["block:linear", "prev:split"]
lin = LinearRegression().fit(train[cols], train.rentals)
lin_mae = mean_absolute_error(test.rentals, lin.predict(test[cols]))
print("linear MAE", round(lin_mae, 3))
print(dict(zip(cols, np.round(lin.coef_, 3))))
# %% tags=["block:forest"]
rf = RandomForestRegressor(n_estimators=50, min_samples_leaf=3, random_state=SEED, n_jobs=1)
rf.fit(train[cols], train.rentals)
rf_pred = pd.Series(rf.predict(test[cols]), index=test.index)
rf_mae = mean_absolute_error(test.rentals, rf_pred)
print("forest MAE", round(rf_mae, 3))
# %% tags=["block:compare"]
daily_err = (test.rentals - rf_pred).abs().resample("D").mean()
print(daily_err.round(2).to_string())
best_model = min([("baseline", baseline_mae), ("linear", lin_mae), ("forest", rf_mae)], key=lambda t: t[1])[0]
print("best:", best_model)
# %% tags=["pipeline-metrics"]
print(rf_mae)
print(lin_mae)
