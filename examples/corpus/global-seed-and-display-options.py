# %% [markdown]
# # Simulating dice games
# The first cell sets up the session the way many notebooks do: imports,
# one global seed, and display options. Every section below relies on it.
# %%
import numpy as np
import pandas as pd
np.random.seed(42)
pd.set_option("display.precision", 2)
pd.set_option("display.max_columns", 4)
np.set_printoptions(precision=3, suppress=True)
# %% [markdown]
# ## Roll some dice
# %%
rolls = np.random.randint(1, 7, size=(1000, 2))
print(rolls[:5])
print(np.bincount(rolls.sum(axis=1))[2:])
# %% [markdown]
# ## Summaries
# %%
games = pd.DataFrame(rolls, columns=["die_a", "die_b"])
games["total"] = games.die_a + games.die_b
games["double"] = games.die_a == games.die_b
games["mean"] = games[["die_a", "die_b"]].mean(axis=1)
games["ratio"] = games.die_a / games.die_b
games["z"] = (games.total - games.total.mean()) / games.total.std()
print(games.head())
print(games.describe())
# %% [markdown]
# ## Monte Carlo: probability of a double six within 24 throws
# %%
trials = np.random.randint(1, 7, size=(2000, 24, 2))
hit = ((trials[..., 0] == 6) & (trials[..., 1] == 6)).any(axis=1)
print("estimate:", hit.mean(), "exact:", round(1 - (35 / 36) ** 24, 4))
print(np.array([hit.mean(), 1 - (35 / 36) ** 24]))
