# %% [markdown]
# # A step defining a function imports the modules its body uses
# `import re` is in a step of its own; rules registers a function that
# uses re in a dict; apply calls it through the dict, never naming re. The
# runtime gives apply the module bindings of the steps it loads from, so
# rules (where the function is defined) replays `import re`.
# %% tags=["block:setup"]
# ins: -  outs: -
import re
# %% tags=["block:rules"]
# ins: -  outs: RULES
RULES = {}
def no_digits(text):
    return re.sub(r"\d", "", text)
RULES["no_digits"] = no_digits
# %% tags=["block:apply"]
# ins: RULES(rules)  outs: -
print(RULES["no_digits"]("a1b2"))
