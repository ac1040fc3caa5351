# %% [markdown]
# # Cleaning a messy CSV export
# Write the raw export, read it back, clean it, and write the cleaned
# file for the next notebook.
# %%
import os
import io
import numpy as np
import pandas as pd
RAW = "data/raw_customers.csv"
CLEAN = "data/clean_customers.csv"
os.makedirs("data", exist_ok=True)
# %% [markdown]
# ## Simulate the export
# %%
rng = np.random.default_rng(123)
n = 80
raw = pd.DataFrame({
    "Customer ID": [f"C{i:04d}" for i in range(n)],
    " Signup Date ": pd.date_range("2021-01-01", periods=n, freq="5D").strftime("%d/%m/%Y"),
    "Spend (EUR)": [f"{v:,.2f}" for v in rng.gamma(2, 400, n)],
    "Segment": rng.choice(["gold", "Gold ", "silver", "SILVER", "bronze", None], n),
    "Age": rng.integers(18, 80, n).astype(float),
})
raw.loc[rng.choice(n, 6, replace=False), "Age"] = np.nan
raw = pd.concat([raw, raw.iloc[[3, 7]]], ignore_index=True)
raw.to_csv(RAW, index=False)
print(os.path.exists(RAW), len(raw))
# %% [markdown]
# ## Read it back
# %%
df = pd.read_csv(RAW)
print(df.columns.tolist())
buf = io.StringIO()
df.info(buf=buf)
print(buf.getvalue().splitlines()[1])
print(df.head(3).to_string())
# %% [markdown]
# ## Clean
# %%
df.columns = [c.strip().lower().replace(" (eur)", "_eur").replace(" ", "_") for c in df.columns]
df = df.drop_duplicates()
df["signup_date"] = pd.to_datetime(df["signup_date"], format="%d/%m/%Y")
df["spend_eur"] = df["spend_eur"].str.replace(",", "").astype(float)
df["segment"] = df["segment"].str.strip().str.lower().fillna("unknown")
df["age"] = df["age"].fillna(df["age"].median())
print(df.dtypes.to_string())
print(df.segment.value_counts().to_string())
# %%
try:
    df["age"] = df["age"].astype(int)
    print("ages are whole numbers")
except ValueError as err:
    print("could not convert:", err)
df.loc[df.spend_eur > 1500, "segment"] = "vip"
print(df.segment.value_counts().sort_index().to_dict())
# %% [markdown]
# ## Write the cleaned file
# %%
df.to_csv(CLEAN, index=False)
check = pd.read_csv(CLEAN, parse_dates=["signup_date"])
print(check.shape, check.signup_date.min().date(), check.signup_date.max().date())
print(round(check.spend_eur.sum(), 2))
# %% [markdown]
# ## A report from the clean file only
# %%
report = pd.read_csv(CLEAN)
report["year"] = report.signup_date.str[:4]
print(report.pivot_table(index="year", columns="segment", values="spend_eur", aggfunc="count", fill_value=0))
