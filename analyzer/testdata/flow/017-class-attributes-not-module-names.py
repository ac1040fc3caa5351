# %% [markdown]
# # Class attributes are not module names
# The class body runs at definition: `label = unit.upper()` reads the module-level unit.
# `rate = 0.1` and `label` inside the class are class attributes: they do not rebind
# the module-level rate (report still loads it from setup) and do not define a
# module-level label (leak's read of it is an undefined name).
# %% tags=["block:setup"]
# ins: -  outs: rate unit
rate = 0.05
unit = "kg"
# %% tags=["block:define"]
# ins: unit(setup)  outs: Loan
class Loan:
    rate = 0.1
    label = unit.upper()

    def interest(self, amount):
        return amount * self.rate
# %% tags=["block:report"]
# ins: Loan(define) rate(setup)  outs: -
print(Loan().interest(100), rate, Loan.label)
# %% tags=["block:leak"]
# ins: -  outs: -
print(label)  # want: error undefined-name
