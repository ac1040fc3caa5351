# %% [markdown]
# # Weather stations: an untagged first cell, then Kale blocks
# The first cell carries no tag (Datainsight runs it as a step of its own).
# %%
import numpy as np
import pandas as pd
rng = np.random.default_rng(12)
stations = pd.DataFrame({"station": ["oslo", "bergen", "tromso", "stavanger"],
                         "lat": [59.9, 60.4, 69.6, 58.9], "elev": [94, 12, 100, 9]})
print(stations.to_string(index=False))
# %% tags=["block:readings"]
days = pd.date_range("2023-01-01", periods=90, freq="D")
readings = pd.DataFrame([(s, d, 5 - 0.4 * (lat - 58) + rng.normal(0, 3))
                         for s, lat in zip(stations.station, stations.lat) for d in days],
                        columns=["station", "day", "temp"])
readings["temp"] = readings.temp.round(1)
print(readings.shape)
# %% tags=["block:monthly"]
readings["month"] = readings.day.dt.month
monthly = readings.pivot_table(index="station", columns="month", values="temp", aggfunc="mean").round(2)
print(monthly)
# %% tags=["block:extremes"]
idx = readings.groupby("station").temp.idxmin()
coldest = readings.loc[idx, ["station", "day", "temp"]].sort_values("temp")
coldest["day"] = coldest.day.dt.strftime("%m-%d")
print(coldest.to_string(index=False))
# %% tags=["block:elevation", "prev:monthly"]
joined = stations.merge(readings.groupby("station", as_index=False).temp.mean(), on="station")
slope = np.polyfit(joined.lat, joined.temp, 1)[0]
print(joined.round(2).to_string(index=False))
print("degrees per degree of latitude:", round(slope, 3))
