# %% [markdown]
# # Comprehension variables do not leak (nested, dict, set, generator)
# Inside build, x, row, k, w, v, i and j are comprehension variables: build neither
# reads the module-level x and k that source wrote nor binds any of them. The outermost
# iterable of each comprehension (matrix, words, flat) is read in the step's scope.
# A later read of row is an undefined name.
# %% tags=["block:source"]
# ins: -  outs: k matrix words x
x = 3
k = "key"
matrix = [[1, 2], [3, 4]]
words = ["a", "bb", "ccc"]
# %% tags=["block:build"]
# ins: matrix(source) words(source)  outs: flat initials lengths pairs total
flat = [x for row in matrix for x in row]
lengths = {k: len(k) for k in words}
initials = {w[0] for w in words}
total = sum(v * v for v in flat)
pairs = [(i, j) for i in range(3) for j in range(i)]
# %% tags=["block:report"]
# ins: flat(build) initials(build) k(source) lengths(build) pairs(build) total(build) x(source)  outs: -
print(x, k, flat, lengths, initials, total, pairs)
# %% tags=["block:leak"]
# ins: -  outs: -
print(row)  # want: error undefined-name
