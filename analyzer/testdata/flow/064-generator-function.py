# %% [markdown]
# # Generator functions
# chunks is a generator function: the function itself is an ordinary output of define.
# `list(chunks(rows, 3))` is a list. `lazy = evens(rows)` is a generator object loaded by
# a later step: an unmarshallable warning on the line that binds it.
# %% tags=["block:define"]
# ins: -  outs: chunks
def chunks(xs, n):
    for i in range(0, len(xs), n):
        yield xs[i:i + n]
# %% tags=["block:data"]
# ins: -  outs: rows
rows = list(range(7))
# %% tags=["block:batch"]
# ins: chunks(define) rows(data)  outs: pieces
pieces = list(chunks(rows, 3))
# %% tags=["block:lazy_gen"]
# ins: rows(data)  outs: lazy
def evens(xs):
    for x in xs:
        if x % 2 == 0:
            yield x


lazy = evens(rows)  # want: warning unmarshallable
# %% tags=["block:consume"]
# ins: lazy(lazy_gen) pieces(batch)  outs: -
print(pieces, list(lazy))
