# %% [markdown]
# # A nested function's free global is a use of the caller
# outer defines inner, which reads the module-level base. Calling outer (in run) runs
# inner, so run loads base as well as outer.
# %% tags=["block:config"]
# ins: -  outs: base
base = 7
# %% tags=["block:define"]
# ins: -  outs: outer
def outer(n):
    def inner(m):
        return m + base

    return [inner(i) for i in range(n)]
# %% tags=["block:run"]
# ins: base(config) outer(define)  outs: -
print(outer(3))
