# %% [markdown]
# # Session settings are replayed in every later step
# setup imports pandas, numpy and warnings in the step itself and sets display
# options: pd.set_option, pd.options... = ..., np.set_printoptions and
# warnings.filterwarnings change only process-wide settings, with literal or imported
# arguments, so every later step replays them after the imports they need
# (Step.Imports), as the kernel keeps them set. A setting whose argument is a
# value a step computed (width) is not replayed: it would need that value.
# %% tags=["block:setup"]
# ins: -  outs: width
import numpy as np
import pandas as pd
import warnings
pd.set_option("display.precision", 2)
pd.options.display.max_columns = 4
np.set_printoptions(precision=3, suppress=True)
warnings.filterwarnings("ignore", category=UserWarning)
width = 120
pd.set_option("display.width", width)
# %% tags=["block:report"]
# ins: -  outs: -
print(1 / 3)
# %% tags=["block:table"]
# ins: width(setup)  outs: -
print(width)
