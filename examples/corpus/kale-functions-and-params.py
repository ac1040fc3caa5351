# %% [markdown]
# # Helpers in the functions cell that read pipeline parameters (Kale-annotated)
# %% tags=["imports"]
import math
import statistics
from functools import reduce
# %% tags=["pipeline-parameters"]
DISCOUNT = 0.15
TAX_RATE = 0.2
CURRENCY = "EUR"
ROUNDING = 2
VERBOSE = True
# %% tags=["functions"]
def net_price(gross):
    return round(gross * (1 - DISCOUNT), ROUNDING)

def with_tax(price):
    return round(price * (1 + TAX_RATE), ROUNDING)

def label(amount):
    return f"{amount:.{ROUNDING}f} {CURRENCY}"

compose = lambda *fs: reduce(lambda f, g: lambda x: g(f(x)), fs)
# %% tags=["block:basket"]
basket = {"notebook": 12.0, "pen": 1.5, "bag": 45.0, "lamp": 30.25}
final_price = compose(net_price, with_tax)
prices = {item: final_price(p) for item, p in basket.items()}
for item, p in sorted(prices.items()):
    print(f"{item:<9}{label(p):>12}")
# %% tags=["block:stats"]
values = list(prices.values())
summary = {
    "total": label(sum(values)),
    "mean": label(statistics.mean(values)),
    "geo_mean": label(math.prod(values) ** (1 / len(values))),
    "max_item": max(prices, key=prices.get),
}
if VERBOSE:
    print(summary)
# %% tags=["block:audit"]
audit_log = []
def audit(event, **fields):
    audit_log.append((event, tuple(sorted(fields.items()))))
    return len(audit_log)
audit("basket", items=len(basket))
audit("discount", rate=DISCOUNT)
print(audit_log)
# %% tags=["block:refund"]
audit("refund", item="pen", amount=prices["pen"])
refund_total = sum(dict(f)["amount"] for e, f in audit_log if e == "refund")
print(len(audit_log), "events; refund total", refund_total)
print([e for e, _ in audit_log])
# %% tags=["block:bulk"]
tiers = sorted([(q, round(1 - 0.02 * math.log2(q), 3)) for q in (1, 2, 4, 8, 16)], key=lambda t: -t[0])
bulk = {q: label(with_tax(net_price(basket["pen"] * q * f))) for q, f in tiers}
print(tiers)
print(bulk)
# %% tags=["pipeline-metrics"]
print(refund_total)
