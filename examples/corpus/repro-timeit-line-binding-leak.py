# %% tags=["step:setup"]
import numpy as np
counts = np.zeros(5)
# %% tags=["step:bench"]
%timeit counts = np.ones(3)
print(len(counts))
