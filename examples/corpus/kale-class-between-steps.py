# %% [markdown]
# # An inventory simulation with a class defined in a step (Kale-annotated)
# The class is defined in one step, instances are made in another, and a
# third step makes new instances and calls methods.
# %% tags=["imports"]
import random
import statistics
from dataclasses import dataclass, field
# %% tags=["pipeline-parameters"]
DAYS = 30
REORDER_POINT = 20
SEED = 5
# %% tags=["block:define"]
@dataclass
class Item:
    sku: str
    stock: int
    price: float
    history: list = field(default_factory=list)

    def sell(self, qty):
        sold = min(qty, self.stock)
        self.stock -= sold
        self.history.append(sold)
        return sold

    @property
    def value(self):
        return round(self.stock * self.price, 2)

class Warehouse:
    restocks = 0

    def __init__(self, items):
        self.items = {it.sku: it for it in items}

    def restock(self, point, amount=50):
        for it in self.items.values():
            if it.stock < point:
                it.stock += amount
                Warehouse.restocks += 1

    def __repr__(self):
        return f"Warehouse({len(self.items)} items, value={self.total_value()})"

    def total_value(self):
        return round(sum(it.value for it in self.items.values()), 2)
print(Item("x", 1, 2.0))
# %% tags=["block:stock_up"]
wh = Warehouse([Item("apple", 60, 0.4), Item("pear", 40, 0.55), Item("plum", 25, 0.8)])
print(wh)
# %% tags=["block:simulate"]
rng = random.Random(SEED)
sold_per_day = []
for day in range(DAYS):
    sold = sum(it.sell(rng.randint(0, 6)) for it in wh.items.values())
    sold_per_day.append(sold)
    wh.restock(REORDER_POINT)
print(wh)
print(sold_per_day[:10], statistics.mean(sold_per_day))
# %% tags=["block:report"]
for sku, it in wh.items.items():
    print(f"{sku:<6} stock={it.stock:3d} sold={sum(it.history):3d} value={it.value}")
print("restocks:", Warehouse.restocks)
print(isinstance(wh, Warehouse), all(isinstance(it, Item) for it in wh.items.values()))
# %% tags=["block:new_store"]
small = Warehouse([Item("kiwi", 10, 1.2)])
small.items["kiwi"].sell(4)
small.restock(REORDER_POINT, amount=15)
print(small, isinstance(small.items["kiwi"], Item))
print(Item("fig", 3, 2.5).value)
