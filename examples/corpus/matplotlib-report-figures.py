# %% [markdown]
# # Figures for the weekly report
# Plots saved to files with savefig, then checked.
# %%
import os
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
%matplotlib inline
os.makedirs("figures", exist_ok=True)
# %% [markdown]
# ## Data
# %%
rng = np.random.default_rng(99)
visits = pd.DataFrame({
    "day": pd.date_range("2023-03-01", periods=60, freq="D"),
    "visits": rng.poisson(120, 60) + np.arange(60),
    "signups": rng.binomial(20, 0.3, 60),
})
visits["conversion"] = visits.signups / visits.visits
print(visits.describe().loc[["mean", "std"]].round(4).to_string())
# %% [markdown]
# ## Distribution
# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 3), dpi=80)
counts, edges, _ = axes[0].hist(visits.visits, bins=12, color="steelblue")
axes[0].set_title("visits per day")
print(counts.astype(int).tolist())
# %%
axes[1].boxplot(visits.conversion)
axes[1].set_title("conversion")
fig.tight_layout()
fig.savefig("figures/distribution.png")
print(len(fig.axes), "axes;", [ax.get_title() for ax in fig.axes])
plt.show()
# %% [markdown]
# ## Trend
# %%
x = np.arange(len(visits))
slope, intercept = np.polyfit(x, visits.visits, 1)
print(f"trend: {slope:.3f} visits/day, intercept {intercept:.2f}")
plt.figure(figsize=(6, 3), dpi=80)
plt.plot(visits.day, visits.visits, label="visits")
plt.plot(visits.day, intercept + slope * x, "--", label="trend")
plt.legend()
plt.title("Daily visits")
plt.savefig("figures/trend.png", bbox_inches=None)
print(plt.gca().get_legend_handles_labels()[1])
# %% [markdown]
# ## Saved files
# %%
!ls figures
img = plt.imread("figures/trend.png")
print(img.shape, img.dtype)
img2 = plt.imread("figures/distribution.png")
print(img2.shape)
