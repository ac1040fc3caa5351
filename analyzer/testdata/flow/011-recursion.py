# %% [markdown]
# # Recursive and mutually recursive functions
# fib calls itself; is_even and is_odd call each other. A caller loads every function
# it reaches (the recursion does not loop the analysis) and nothing else.
# %% tags=["block:define"]
# ins: -  outs: fib is_even is_odd
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)
# %% tags=["block:bounds"]
# ins: -  outs: limit
limit = 10
# %% tags=["block:run"]
# ins: fib(define) is_even(define) is_odd(define) limit(bounds)  outs: -
seq = [fib(k) for k in range(limit)]
print(seq, is_even(7))
