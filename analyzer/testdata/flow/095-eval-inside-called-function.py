# %% [markdown]
# # eval inside a function the step calls
# calc evaluates its argument with eval, in the module namespace. Defining it (tools) is
# harmless; calling it makes apply's reads unknowable: a dynamic-scope warning at the
# call, and apply loads every value earlier steps wrote (x, y and calc).
# %% tags=["block:data"]
# ins: -  outs: x y
x = 2
y = 3
# %% tags=["block:tools"]
# ins: -  outs: calc
def calc(expr):
    return eval(expr)
# %% tags=["block:apply"]
# ins: calc(tools) x(data) y(data)  outs: -
print(calc("x * y"))  # want: warning dynamic-scope
