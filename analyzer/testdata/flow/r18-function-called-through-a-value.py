# %% [markdown]
# # A function called through a value does what it does
# helpers defines squeeze; rules keeps squeeze_rule, which calls it, in a
# dict; apply calls a function the dict holds, never naming squeeze. The
# call may run any function of the notebook, so apply loads what they read:
# squeeze. Which function a value holds is not known, so that is every
# function bound when the call runs (its modules aside: r15).
# %% tags=["block:helpers"]
# ins: -  outs: squeeze
import re

def squeeze(text):
    return re.sub(r"\s+", " ", text).strip()
# %% tags=["block:rules"]
# ins: -  outs: RULES
RULES = {}

def squeeze_rule(text):
    return squeeze(text)

RULES["squeeze"] = squeeze_rule
# %% tags=["block:apply"]
# ins: RULES(rules) squeeze(helpers)  outs: -
print(RULES["squeeze"]("  a   b "))
