# %% [markdown]
# # Retail sales: a first look
# Synthetic daily sales for a handful of stores. We summarise by store and
# region, join the store table, and pivot by month.
# %%
import numpy as np
import pandas as pd
%matplotlib inline
# %% [markdown]
# ## Generate the data
# %%
rng = np.random.default_rng(7)
n = 400
sales = pd.DataFrame({
    "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 180, n), unit="D"),
    "store_id": rng.integers(1, 6, n),
    "product": rng.choice(["apples", "bread", "cheese", "dates"], n),
    "units": rng.integers(1, 20, n),
    "unit_price": rng.choice([0.5, 1.25, 3.0, 4.5], n),
})
sales["revenue"] = sales.units * sales.unit_price
print(sales.shape)
print(sales.dtypes.to_string())
# %%
display(sales.head())
print(sales.describe().round(2))
# %% [markdown]
# ## Stores
# %%
stores = pd.DataFrame({
    "store_id": [1, 2, 3, 4, 5],
    "region": ["north", "north", "south", "east", "south"],
    "sqm": [120, 340, 90, 210, 150],
})
merged = sales.merge(stores, on="store_id", how="left", validate="many_to_one")
print(merged.isna().sum().sum(), "missing after merge")
print(merged.groupby("region")["revenue"].agg(["count", "sum", "mean"]).round(2))
# %% [markdown]
# ## Per store and product
# %%
by_store = (merged.groupby(["store_id", "product"], as_index=False)
                  .agg(units=("units", "sum"), revenue=("revenue", "sum")))
by_store["revenue_per_sqm"] = by_store.revenue / by_store.store_id.map(stores.set_index("store_id").sqm)
top = by_store.sort_values("revenue", ascending=False).head(5)
print(top.round(3).to_string(index=False))
# %% [markdown]
# ## Monthly pivot
# %%
merged["month"] = merged.date.dt.to_period("M").astype(str)
pivot = merged.pivot_table(index="month", columns="region", values="revenue", aggfunc="sum", fill_value=0)
print(pivot.round(1))
print("best month per region:")
for region in pivot.columns:
    print(f"  {region:<6} {pivot[region].idxmax()} {pivot[region].max():9.2f}")
# %%
share = pivot.div(pivot.sum(axis=1), axis=0)
print((share * 100).round(1).to_string())
# %% [markdown]
# ## Summary
# %%
summary = {
    "rows": len(merged),
    "stores": merged.store_id.nunique(),
    "total_revenue": round(float(merged.revenue.sum()), 2),
    "best_region": merged.groupby("region").revenue.sum().idxmax(),
}
for k, v in summary.items():
    print(k, "=", v)
