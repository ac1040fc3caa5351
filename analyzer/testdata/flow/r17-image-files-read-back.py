# %% [markdown]
# # Image files are file edges: savefig and imsave write, imread reads
# A step that reads back a figure another step saved runs after it (it once
# ran beside it, and found no file); cv2/imageio's imwrite and imread too.
# %% tags=["imports"]
import os
import numpy as np
import matplotlib.pyplot as plt
# %% tags=["block:plot"]
# ins: -  outs: -
os.makedirs("figures", exist_ok=True)
plt.plot([1, 2, 3])
plt.savefig("figures/trend.png")
# %% tags=["block:stamp"]
# ins: -  outs: -
os.makedirs("figures", exist_ok=True)
plt.imsave("figures/stamp.png", np.zeros((4, 4)))
# %% tags=["block:check"]
# ins: -  outs: -  after: plot stamp
img = plt.imread("figures/trend.png")
stamp = plt.imread(fname="figures/stamp.png")
print(img.shape, stamp.shape)
