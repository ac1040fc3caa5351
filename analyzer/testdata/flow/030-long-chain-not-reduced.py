# %% [markdown]
# # A long chain: after lists every direct producer
# enrich reads ids (ingest) and parsed (parse); publish reads ids, parsed and totals.
# after is not transitively reduced: enrich lists ingest although parse already
# depends on it.
# %% tags=["block:ingest"]
# ins: -  outs: ids
ids = [3, 1, 2]
# %% tags=["block:parse"]
# ins: ids(ingest)  outs: parsed
parsed = {i: str(i) for i in ids}
# %% tags=["block:enrich"]
# ins: ids(ingest) parsed(parse)  outs: enriched
enriched = [parsed[i] + "!" for i in sorted(ids)]
# %% tags=["block:aggregate"]
# ins: enriched(enrich)  outs: totals
totals = {"n": len(enriched), "chars": sum(len(e) for e in enriched)}
# %% tags=["block:publish"]
# ins: ids(ingest) parsed(parse) totals(aggregate)  outs: -
print(ids, parsed, totals)
