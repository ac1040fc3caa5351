# %% [markdown]
# # Daily energy demand: resampling and rolling windows
# %%
import numpy as np
import pandas as pd
# %% [markdown]
# ## Build the series
# %%
idx = pd.date_range("2022-01-01", periods=365, freq="D")
rng = np.random.default_rng(5)
season = 50 + 15 * np.cos(2 * np.pi * (idx.dayofyear - 15) / 365)
weekly = np.where(idx.dayofweek >= 5, -6.0, 2.0)
demand = pd.Series(season + weekly + rng.normal(0, 3, len(idx)), index=idx, name="demand")
print(demand.head().round(2))
print(demand.index.freqstr, len(demand))
# %% [markdown]
# ## Frame and calendar features
# %%
df = demand.to_frame()
df["dow"] = df.index.day_name().str[:3]
df["month"] = df.index.month
df["weekend"] = df.index.dayofweek >= 5
%time df["rolling_7"] = df.demand.rolling(7, min_periods=1).mean()
df["rolling_30"] = df.demand.rolling(30).mean()
df["lag_1"] = df.demand.shift(1)
df["pct"] = df.demand.pct_change()
print(df.iloc[28:33].round(3).to_string())
# %% [markdown]
# ## Monthly and weekly views
# %%
monthly = df.demand.resample("M").agg(["mean", "min", "max"])
monthly.index = monthly.index.strftime("%Y-%m")
print(monthly.round(2))
print(df.groupby("dow").demand.mean().reindex(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]).round(2))
# %% [markdown]
# ## Anomalies
# %%
resid = df.demand - df.rolling_7
threshold = 2.5 * resid.std()
df.loc[resid.abs() > threshold, "anomaly"] = True
df["anomaly"] = df["anomaly"].fillna(False)
print("threshold", round(threshold, 3))
print(df.index[df.anomaly].strftime("%Y-%m-%d").tolist())
# %% [markdown]
# ## Week-over-week
# %%
weekly_mean = df.demand.resample("W-MON").mean()
wow = weekly_mean.diff().dropna()
print("largest weekly rise:", wow.idxmax().date(), round(wow.max(), 2))
print("largest weekly drop:", wow.idxmin().date(), round(wow.min(), 2))
ewm = df.demand.ewm(span=14, adjust=False).mean()
print(ewm.tail(3).round(3).to_string())
