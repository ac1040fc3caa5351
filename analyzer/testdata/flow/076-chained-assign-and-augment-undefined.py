# %% [markdown]
# # Chained assignment; augmenting a name nothing defined
# `total = count = 0` binds both names. `counter += 1` reads counter first, and no
# earlier cell defines it: an undefined name.
# %% tags=["block:init"]
# ins: -  outs: count total
total = count = 0
# %% tags=["block:fill"]
# ins: count(init) total(init)  outs: total
total += 5
print(count)
counter += 1  # want: error undefined-name
# %% tags=["block:report"]
# ins: total(fill)  outs: -
print(total)
