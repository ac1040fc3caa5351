# %% [markdown]
# # A star import in the imports cell leaves names unchecked
# `from math import *` in the imports cell runs before every step and may define any
# name, so no undefined-name can be reported: an info says so at the import, instead
# of silence. (`undefined_here` would fail when shown, but the analysis cannot know.)
# exec in the functions cell does the same. A star import inside a step stays a
# dynamic-scope warning, and that step loads every earlier value.
# %% tags=["imports"]
import os
from math import *  # want: info names-unchecked
# %% tags=["functions"]
exec("HALF = 0.5")  # want: info names-unchecked
# %% tags=["block:radius"]
# ins: -  outs: r
r = sqrt(2.0) * HALF
# %% tags=["block:area"]
# ins: r(radius)  outs: -
print(pi * r ** 2)
if os.environ.get("NEVER_SET_HERE"):
    print(undefined_here)
# %% tags=["block:more"]
# ins: r(radius)  outs: -
from cmath import *  # want: warning dynamic-scope
print(phase(1j))
