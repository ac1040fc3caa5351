# %% [markdown]
# # comprehension scope
# comprehension, generator and lambda variables do not leak: build never binds or reads the module-level x; the iterable of an inner comprehension (cols) is still a read of the global
# %% [markdown]
# # Comprehension variables do not leak
# %% tags=["step:source"]
# ins: -  outs: cols rows x
x = "outer"
rows = [1, 2]
cols = [10, 20]
# %% tags=["step:build"]
# ins: cols(source) rows(source)  outs: grid lookup ordered total
grid = [[r * c for c in cols] for r in rows]
lookup = {x: x * 2 for x in range(3)}
total = sum(y for y in rows)
ordered = sorted(rows, key=lambda r: -r)
# %% tags=["step:report"]
# ins: grid(build) lookup(build) ordered(build) total(build) x(source)  outs: -
print(x, grid, lookup, total, ordered)
