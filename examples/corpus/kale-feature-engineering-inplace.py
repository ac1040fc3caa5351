# %% [markdown]
# # Feature engineering in place, step by step (Kale-annotated)
# Every step changes the same DataFrame in place: column assigns, .loc and
# .at writes, inplace=True methods, del of a column.
# %% tags=["imports"]
import numpy as np
import pandas as pd
# %% tags=["block:load"]
rng = np.random.default_rng(10)
n = 12
df = pd.DataFrame({
    "Listing ID": np.arange(100, 100 + n),
    "Price": rng.integers(50, 400, n).astype(float),
    "Rooms": rng.integers(1, 5, n),
    "Area m2": rng.normal(60, 20, n).round(1),
    "City": rng.choice(["Lyon", "Nice", "Paris"], n),
    "Notes": ["" for _ in range(n)],
})
df.loc[[2, 5, 9], "Price"] = np.nan
print(df.head(3).to_string())
# %% tags=["block:rename"]
df.rename(columns=lambda c: c.lower().replace(" ", "_"), inplace=True)
df.set_index("listing_id", inplace=True)
print(df.columns.tolist(), df.index.name)
# %% tags=["block:impute"]
df["price"].fillna(df.groupby("city")["price"].transform("median"), inplace=True)
print(df.price.isna().sum(), df.price.round(1).tolist())
# %% tags=["block:derive"]
df["price_per_m2"] = (df.price / df.area_m2).round(3)
df["big"] = df.rooms >= 3
df.loc[df.city == "Paris", "price"] *= 1.1
df.at[df.index[0], "notes"] = "checked"
df.iloc[1, df.columns.get_loc("notes")] = "call owner"
print(df[["price", "price_per_m2", "big", "notes"]].head(3).round(2).to_string())
# %% tags=["block:tidy"]
del df["notes"]
df.drop(columns=["big"], inplace=True)
df.sort_values("price_per_m2", ascending=False, inplace=True)
df.reset_index(inplace=True)
print(df.columns.tolist())
print(df.listing_id.head(5).tolist())
# %% tags=["block:encode"]
dummies = pd.get_dummies(df.city, prefix="city", dtype=int)
df[dummies.columns] = dummies
df.pop("city")
df["rooms"] = df["rooms"].astype("float32")
print(df.dtypes.astype(str).to_dict())
# %% tags=["block:final"]
print(df.shape)
print(df.round(2).head(4).to_string())
print(round(df.price.sum(), 2))
