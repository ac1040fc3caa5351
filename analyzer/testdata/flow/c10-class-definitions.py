# %% [markdown]
# # class definitions
# a class defined in a step is a marshalled name like any other; its class body runs at definition (reads base_rate); class attributes are not module names
# %% [markdown]
# # Class definitions
# %% tags=["step:base"]
# ins: -  outs: base_rate
base_rate = 2
# %% tags=["step:define"]
# ins: base_rate(base)  outs: Counter
class Counter:
    stride = base_rate * 2

    def __init__(self):
        self.n = 0

    def inc(self):
        self.n += self.stride
        return self.n
# %% tags=["step:use"]
# ins: Counter(define)  outs: c
c = Counter()
c.inc()
# %% tags=["step:report"]
# ins: Counter(define) c(use)  outs: -
print(c.n, Counter.stride)
