# %%
# ins: -  outs: __rng_numpy__
import numpy as np
import pandas as pd
np.random.seed(42)
pd.set_option("display.precision", 2)
pd.set_option("display.max_columns", 4)
np.set_printoptions(precision=3, suppress=True)
# %% [markdown]
# ## Roll some dice
# %%
# ins: __rng_numpy__(start)  outs: __rng_numpy__ rolls
rolls = np.random.randint(1, 7, size=(1000, 2))
print(rolls[:5])
# %% [markdown]
# ## Summaries
# %%
# ins: rolls(roll_some_dice)  outs: -
games = pd.DataFrame(rolls, columns=["a", "b"]); print(games.describe())
# %% [markdown]
# ## Monte Carlo
# %%
# ins: __rng_numpy__(roll_some_dice)  outs: -
trials = np.random.randint(1, 7, size=(2000, 24, 2))
print(np.array([trials.mean(), 1/3]))
