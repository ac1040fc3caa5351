# %% [markdown]
# # function globals
# a function defined in one step and called in a later one: the caller loads the function and, transitively, the free globals of every function it reaches, each from its last writer; default values are read by the defining step
# define does not call scaled, so factor is not a use of define (it is not defined yet there); apply calls twice, which calls scaled, which reads factor (written by config, after define). The default offset=bias is evaluated when define runs.
# %% [markdown]
# # Functions: free globals are uses at the call site
# %% tags=["step:seed"]
# ins: -  outs: bias
bias = 1
# %% tags=["step:define"]
# ins: bias(seed)  outs: scaled twice
def scaled(v, offset=bias):
    return v * factor + offset


def twice(v):
    return scaled(v) * 2
# %% tags=["step:config"]
# ins: -  outs: factor
factor = 3
# %% tags=["step:apply"]
# ins: factor(config) scaled(define) twice(define)  outs: -
out = [twice(v) for v in range(3)]
print(out)
