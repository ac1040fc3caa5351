# %% [markdown]
# # Decorators and default values run when the def runs
# `@register` is evaluated and applied at definition: define reads register and, through
# the call, mutates registry (load and save). The default `unit=default_unit` is read by
# define too. FACTORS, read in the body of to_cm, is a use only of the step that calls
# to_cm (use), not of define.
# %% tags=["block:settings"]
# ins: -  outs: FACTORS default_unit
default_unit = "in"
FACTORS = {"in": 2.54, "cm": 1.0}
# %% tags=["block:tools"]
# ins: -  outs: register registry
registry = {}


def register(fn):
    registry[fn.__name__] = fn
    return fn
# %% tags=["block:define"]
# ins: default_unit(settings) register(tools) registry(tools)  outs: registry to_cm
@register
def to_cm(v, unit=default_unit):
    return v * FACTORS[unit]
# %% tags=["block:use"]
# ins: FACTORS(settings) registry(define) to_cm(define)  outs: -
print(to_cm(3), sorted(registry))
