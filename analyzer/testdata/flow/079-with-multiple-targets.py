# %% [markdown]
# # with binding several targets, and file edges on both sides
# `with open(src) as fin, open(dst, "w") as fout:` binds fin and fout, reads raw.txt
# (written by seed) and writes upper.txt (read by check).
# %% tags=["block:seed"]
# ins: -  outs: -
with open("raw.txt", "w") as fh:
    fh.write("hello\n")
# %% tags=["block:convert"]
# ins: -  outs: -  after: seed
with open("raw.txt") as fin, open("upper.txt", "w") as fout:
    fout.write(fin.read().upper())
# %% tags=["block:check"]
# ins: -  outs: -  after: convert
with open("upper.txt") as fh:
    print(fh.read().strip())
