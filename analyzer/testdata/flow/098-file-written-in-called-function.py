# %% [markdown]
# # A file written inside a called function
# save_report writes out/report.txt. Defining it writes nothing; run calls it, so run is
# the writer, and publish (which reads out/report.txt) runs after run. other, which only
# defines a second function, stays independent.
# %% tags=["block:define"]
# ins: -  outs: save_report
def save_report(text):
    with open("out/report.txt", "w") as fh:
        fh.write(text)
# %% tags=["block:other"]
# ins: -  outs: -
def unused():
    return open("out/report.txt").read()
# %% tags=["block:run"]
# ins: save_report(define)  outs: -
save_report("all good")
# %% tags=["block:publish"]
# ins: -  outs: -  after: run
with open("out/report.txt") as fh:
    print(fh.read())
