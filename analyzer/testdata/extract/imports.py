# Import statements: the names they bind (module values) and their text
# normalised to one line, for replaying them in later steps.

# %% import forms
import os  # want: write os:module@8 ;; import os: import os
import os.path  # want: write os:module@8 ;; import os: import os.path
import a.b.c as d, e  # want: write d:module@17, write e:module ;; import d e: import a.b.c as d, e
from collections import OrderedDict  # want: write OrderedDict:module ;; import OrderedDict: from collections import OrderedDict
from . import (x as y,  # want: write y:module ;; import y z: from . import x as y, z
  z)  # want: write z:module
from ..pkg . mod import  name  # want: write name:module ;; import name: from ..pkg.mod import name
from .m import *  # want: dynamic ;; import* : from .m import *
from __future__ import annotations  # want: write annotations:module ;; import annotations: from __future__ import annotations

# %% conditional imports are module-level, with Cond
try:
    import ujson as json  # want: write json:module? ;; import? json: import ujson as json
except ImportError:  # want: read ImportError?
    import json  # want: write json:module? ;; import? json: import json
if fast:  # want: read fast
    from numba import jit  # want: write jit:module? ;; import? jit: from numba import jit

# %% imports in a function or class body are local to it
def load():  # want: write load:function ;; func load: reads=open calls=open files=r"f.pkl"
    import pickle
    return pickle.load(open("f.pkl", "rb"))
class K:  # want: write K:class ;; func K: class
    import math
    pi = math.pi
