# %% [markdown]
# # A comprehension in a class body skips the class scope
# In Python 3, a comprehension's body cannot see class-level names: in
# `vals = [v * scale for v in range(3)]` inside class K, scale is the MODULE-level scale
# (2), not the class attribute (10). So define reads the global scale from config. The
# default `k=scale` of method f is evaluated in the class body and takes the class
# attribute: no global read.
# %% tags=["block:config"]
# ins: -  outs: scale
scale = 2
# %% tags=["block:define"]
# ins: scale(config)  outs: K
class K:
    scale = 10
    vals = [v * scale for v in range(3)]

    def f(self, k=scale):
        return k
# %% tags=["block:report"]
# ins: K(define)  outs: -
print(K.vals, K().f())
