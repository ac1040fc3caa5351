# %% [markdown]
# # A method of a notebook class does what its body does
# `wh.restock(20)` runs Warehouse.restock, which counts restocks in the class attribute
# `Warehouse.restocks`: simulate changes Warehouse, so it loads and saves it, and report
# loads Warehouse from simulate (not from stock_up, whose `Warehouse(…)` may run any
# method). A call `x.m(…)` may run the method m of any class the notebook defines, with
# what that method does to globals (as a call of a notebook function does).
# %% tags=["block:define"]
# ins: -  outs: Item Warehouse
class Item:
    def __init__(self, stock):
        self.stock = stock


class Warehouse:
    restocks = 0

    def __init__(self, items):
        self.items = items

    def restock(self, point):
        for it in self.items.values():
            if it.stock < point:
                it.stock += 50
                Warehouse.restocks += 1

    def top_up(self):
        self.restock(100)

    def total(self):
        return sum(it.stock for it in self.items.values())
# %% tags=["block:stock_up"]
# ins: Item(define) Warehouse(define)  outs: Warehouse wh
wh = Warehouse({"bolts": Item(10), "nuts": Item(80)})
# %% tags=["block:simulate"]
# ins: Warehouse(stock_up) wh(stock_up)  outs: Warehouse wh
wh.restock(20)
# %% tags=["block:report"]
# ins: Warehouse(simulate) wh(simulate)  outs: wh
print(Warehouse.restocks, wh.total())
# %% [markdown]
# ## A method that changes its object changes what holds it
# restock changes its self (through its loop over `self.items.values()`), and top_up
# calls restock on self. So `fleet[0].restock(30)` and `w.top_up()` for a loop target w
# walking fleet change fleet: north and everywhere load and save it. total changes
# nothing: audit only reads fleet, beside north. A function that calls a method
# (nightly) does what the method does: run_nightly changes Warehouse and wh.
# %% tags=["block:fleet"]
# ins: Item(define) Warehouse(simulate)  outs: Warehouse fleet
fleet = [Warehouse({"x": Item(5)}), Warehouse({"y": Item(1), "z": Item(60)})]
# %% tags=["block:audit"]
# ins: fleet(fleet)  outs: -
for w in fleet:
    print(w.total())
# %% tags=["block:north"]
# ins: Warehouse(fleet) fleet(fleet)  outs: Warehouse fleet
fleet[0].restock(30)
# %% tags=["block:everywhere"]
# ins: Warehouse(north) fleet(north)  outs: Warehouse fleet
for w in fleet:
    w.top_up()
# %% tags=["block:schedule"]
# ins: -  outs: nightly
def nightly():
    wh.restock(90)
# %% tags=["block:run_nightly"]
# ins: Warehouse(everywhere) nightly(schedule) wh(report)  outs: Warehouse wh
nightly()
# %% tags=["block:final"]
# ins: Warehouse(run_nightly) fleet(everywhere) wh(run_nightly)  outs: -
print(Warehouse.restocks, wh.total(), [w.total() for w in fleet])
