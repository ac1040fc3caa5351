# %% tags=["step:a"]
import numpy as np
counts = np.zeros(3)
# %% tags=["step:b"]
np.add.at(counts, [0], 1)
# %% tags=["step:c"]
print(counts)
