# %% [markdown]
# # Annotated assignments
# `limit: int = 10` binds limit like a plain assignment; `ratio: float = limit / 4`
# reads limit from the same step. `pending: list` has no value and binds nothing, so a
# later read of pending is an undefined name.
# %% tags=["block:typed"]
# ins: -  outs: limit ratio
limit: int = 10
ratio: float = limit / 4
pending: list
# %% tags=["block:use"]
# ins: limit(typed) ratio(typed)  outs: -
print(limit, ratio)
print(pending)  # want: error undefined-name
