# %% [markdown]
# # Cleaning rules registered with decorators
# A small rule engine grown over several sections: a registry filled by a
# decorator, a call log kept by another, and helpers that build on helpers.
# %%
import re
import functools
# %% [markdown]
# ## The registry and the call log
# %%
RULES = {}
call_log = []

def rule(name):
    def register(fn):
        RULES[name] = fn
        return fn
    return register

def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        call_log.append(fn.__name__)
        return fn(*args, **kwargs)
    return wrapper

def squeeze(text):
    return re.sub(r"\s+", " ", text).strip()
print(len(RULES), call_log)
# %% [markdown]
# ## Rules
# %%
@rule("lower")
def lower(text):
    return text.lower()

@rule("squeeze")
def squeeze_rule(text):
    return squeeze(text)

@rule("no_digits")
@logged
def no_digits(text):
    return re.sub(r"\d+", "#", text)
print(sorted(RULES))
# %% [markdown]
# ## Apply them
# %%
@logged
def clean(text, order=("lower", "no_digits", "squeeze")):
    for name in order:
        text = RULES[name](text)
    return text

samples = ["  Order 66   SHIPPED ", "Call  555 0199 today", "nothing to   see"]
cleaned = [clean(s) for s in samples]
print(cleaned)
print(call_log)
# %% [markdown]
# ## One more rule, added late
# %%
@rule("strip_punct")
def strip_punct(text):
    return re.sub(r"[^\w\s#]", "", text)
print(clean("Hello, World!!  42", order=("strip_punct", "lower", "no_digits", "squeeze")))
print(sorted(RULES))
# %% [markdown]
# ## What ran
# %%
print(len(call_log), "logged calls")
print({name: call_log.count(name) for name in sorted(set(call_log))})
