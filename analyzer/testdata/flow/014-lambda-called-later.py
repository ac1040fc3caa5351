# %% [markdown]
# # A lambda bound to a name and called later
# `zscore = lambda v: (v - mu) / sd` reads mu and sd only when called: define reads
# nothing; apply calls zscore and so loads mu and sd. The lambda inside sorted's
# key= in apply is called there too, and its parameter r is no global.
# %% tags=["block:stats"]
# ins: -  outs: mu sd
mu, sd = 5.0, 2.0
# %% tags=["block:define"]
# ins: -  outs: zscore
zscore = lambda v: (v - mu) / sd
# %% tags=["block:apply"]
# ins: mu(stats) sd(stats) zscore(define)  outs: -
scored = sorted([(v, zscore(v)) for v in (3, 5, 7)], key=lambda r: -r[1])
print(scored)
