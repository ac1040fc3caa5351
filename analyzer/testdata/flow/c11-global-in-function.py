# %% [markdown]
# # global in function
# a called function's `global` names: read-and-rebind (hits += 1) makes the calling step load and save hits; a blind rebind (label = new) makes it save label without loading it
# tools only defines the functions (no call), so it has no inputs. init's label is overwritten by run before anyone reads it, so init does not save it.
# %% [markdown]
# # global inside a function
# %% tags=["step:init"]
# ins: -  outs: hits
hits = 0
label = "x"
# %% tags=["step:tools"]
# ins: -  outs: bump rename
def bump():
    global hits
    hits += 1


def rename(new):
    global label
    label = new
# %% tags=["step:run"]
# ins: bump(tools) hits(init) rename(tools)  outs: hits label
bump()
rename("y")
# %% tags=["step:report"]
# ins: hits(run) label(run)  outs: -
print(hits, label)
