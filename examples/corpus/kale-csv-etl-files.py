# %% [markdown]
# # A file-based ETL: steps hand data over through CSV files (Kale-annotated)
# No variable crosses a step here; each step reads what the one before wrote.
# %% tags=["imports"]
import os
import json
import numpy as np
import pandas as pd
# %% tags=["pipeline-parameters"]
N_ORDERS = 250
MIN_QTY = 2
# %% tags=["block:extract"]
os.makedirs("etl", exist_ok=True)
rng = np.random.default_rng(77)
orders = pd.DataFrame({
    "order_id": np.arange(1000, 1000 + N_ORDERS),
    "customer": rng.choice(["acme", "globex", "initech", "umbrella", "hooli"], N_ORDERS),
    "sku": rng.choice(["A-1", "B-2", "C-3"], N_ORDERS),
    "qty": rng.integers(1, 10, N_ORDERS),
})
prices = pd.DataFrame({"sku": ["A-1", "B-2", "C-3"], "price": [9.99, 24.5, 3.75]})
orders.to_csv("etl/orders.csv", index=False)
prices.to_csv("etl/prices.csv", index=False)
print(sorted(os.listdir("etl")))
# %% tags=["block:transform"]
o = pd.read_csv("etl/orders.csv")
p = pd.read_csv("etl/prices.csv")
lines = o[o.qty >= MIN_QTY].merge(p, on="sku")
lines["amount"] = (lines.qty * lines.price).round(2)
lines.to_csv("etl/order_lines.csv", index=False)
print(len(o), "->", len(lines), "lines")
# %% tags=["block:aggregate"]
lines = pd.read_csv("etl/order_lines.csv")
per_customer = lines.groupby("customer").agg(orders=("order_id", "nunique"), revenue=("amount", "sum"))
per_customer = per_customer.sort_values("revenue", ascending=False)
per_customer.to_csv("etl/per_customer.csv")
print(per_customer.round(2).to_string())
# %% tags=["block:export_json"]
table = pd.read_csv("etl/per_customer.csv", index_col="customer")
with open("etl/summary.json", "w") as fh:
    json.dump({"top": table.index[0], "revenue": round(float(table.revenue.sum()), 2)}, fh, sort_keys=True)
print("summary written")
# %% tags=["block:check", "prev:export_json"]
with open("etl/summary.json") as fh:
    summary = json.load(fh)
print(summary)
print(sorted(f for f in os.listdir("etl") if f.endswith(".csv")))
