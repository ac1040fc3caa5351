# %% tags=["step:make"]
import numpy as np
import xgboost as xgb
D = xgb.DMatrix(np.ones((3, 2)), label=[0, 1, 0])
# %% tags=["step:use"]
print(D.num_row())
