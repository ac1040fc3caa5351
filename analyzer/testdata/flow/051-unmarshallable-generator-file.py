# %% [markdown]
# # Values that cannot be passed between steps
# batches is a generator and log an open file, both loaded by consume: each gets an
# unmarshallable warning on the line that binds it. squares is a generator consumed in
# its own step: never saved, no warning.
# %% tags=["block:make_gen"]
# ins: -  outs: batches
rows = list(range(6))
batches = (rows[i:i + 2] for i in range(0, 6, 2))  # want: warning unmarshallable
squares = (v * v for v in rows)
total = sum(squares)
# %% tags=["block:log_open"]
# ins: -  outs: log
log = open("run.log", "w")  # want: warning unmarshallable
# %% tags=["block:consume"]
# ins: batches(make_gen) log(log_open)  outs: -
for b in batches:
    log.write(str(b))
