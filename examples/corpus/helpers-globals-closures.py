# %% [markdown]
# # Helper functions, globals and closures
# A notebook that grows its own little toolbox as it goes.
# %%
import math
import functools
import random
# %% [markdown]
# ## Settings and helpers
# %%
ROUND_TO = 3
CURRENCY = "EUR"
calls = 0
def fmt_money(x):
    global calls
    calls += 1
    return f"{x:,.{ROUND_TO - 1}f} {CURRENCY}"
def make_scaler(factor):
    def scale(values):
        return [round(v * factor, ROUND_TO) for v in values]
    return scale
double = make_scaler(2)
squash = lambda v: 1 / (1 + math.exp(-v))
print(fmt_money(1234.5), double([1, 2.5]), round(squash(0.3), ROUND_TO))
# %% [markdown]
# ## Orders
# %%
random.seed(17)
orders = [{"id": i, "amount": round(random.uniform(5, 500), 2), "country": random.choice(["DE", "FR", "NL"])}
          for i in range(1, 21)]
totals = {}
for o in orders:
    totals[o["country"]] = totals.get(o["country"], 0) + o["amount"]
for country, total in sorted(totals.items()):
    print(country, fmt_money(total))
print("calls so far:", calls)
# %% [markdown]
# ## Memoised work
# %%
@functools.lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
print([fib(i) for i in range(15)])
print(fib.cache_info().hits > 0)
# %% [markdown]
# ## Changing a setting changes every helper
# %%
ROUND_TO = 1
CURRENCY = "USD"
print(fmt_money(99.987), double([0.26, 1.04]))
big = sorted(orders, key=lambda o: o["amount"], reverse=True)[:3]
print([fmt_money(o["amount"]) for o in big])
print("calls so far:", calls)
# %% [markdown]
# ## Sorting and grouping helpers
# %%
def group_by(items, key):
    out = {}
    for it in items:
        out.setdefault(key(it), []).append(it)
    return out
groups = group_by(orders, key=lambda o: "large" if o["amount"] > 250 else "small")
print({k: len(v) for k, v in sorted(groups.items())})
print(sum(1 for o in orders if o["country"] == "DE"), "German orders")
print("final calls:", calls, fmt_money(sum(o["amount"] for o in orders)))
