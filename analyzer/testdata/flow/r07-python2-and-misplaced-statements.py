# %% [markdown]
# # Python 2 syntax is a syntax error
# Tree-sitter's grammar still accepts Python 2, but the steps run under Python 3, which
# refuses these cells before running any line: each offending line is a syntax-error.
# %% tags=["block:statements"]
# ins: -  outs: -
import sys
msg = "hello"
print msg  # want: error syntax-error
print >>sys.stderr, msg  # want: error syntax-error
exec "x = 1"  # want: error syntax-error
raise ValueError, "bad"  # want: error syntax-error
# %% tags=["block:literals"]
# ins: -  outs: -
same = 1 <> 2  # want: error syntax-error
shown = `msg`  # want: error syntax-error
raw = ur"\d"  # want: error syntax-error
mode = 0777  # want: error syntax-error
big = 10L  # want: error syntax-error
# %% tags=["block:tuple_params"]
# ins: -  outs: -
def dist((x, y)):  # want: error syntax-error
    return (x * x + y * y) ** 0.5
norm = lambda (a, b): a + b  # want: error syntax-error
# %% [markdown]
# ## Statements where Python 3 does not allow them
# return and yield outside a function, break and continue outside a loop (a loop's
# else clause is outside it), nonlocal at module level and a star import inside a def
# are compile-time errors too. Valid forms nearby are not reported: 0o777, 00, 0777j,
# rb"", a nonlocal in a nested def, break inside a loop in a function.
# %% tags=["block:misplaced"]
# ins: -  outs: -
total = 0
if total == 0:
    return  # want: error syntax-error
yield total  # want: error syntax-error
for i in range(2):
    pass
else:
    break  # want: error syntax-error
nonlocal total  # want: error syntax-error
# %% tags=["block:in_defs"]
# ins: -  outs: -
def star():
    from os import *  # want: error syntax-error
    continue  # want: error syntax-error


def fine():
    count = 0
    ok = [0o777, 00, 0777j, rb"x", Rb"y", f"{count}"]

    def bump():
        nonlocal count
        count += 1
    for _ in ok:
        bump()
        if count > 1:
            break
        continue
    return count
