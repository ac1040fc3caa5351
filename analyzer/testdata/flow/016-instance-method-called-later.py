# %% [markdown]
# # Calling a method of a notebook class on a loaded instance
# bill creates inv before any step has written tax (Invoice.__init__ reads no global).
# charge calls inv.gross(), which reads the free global tax: charge must load tax (from
# rates) as well as inv (from bill), as running the cells top to bottom shows.
# %% tags=["block:define"]
# ins: -  outs: Invoice
class Invoice:
    def __init__(self, net):
        self.net = net

    def gross(self):
        return round(self.net * (1 + tax), 2)
# %% tags=["block:bill"]
# ins: Invoice(define)  outs: inv
inv = Invoice(100)
# %% tags=["block:rates"]
# ins: -  outs: tax
tax = 0.25
# %% tags=["block:charge"]
# ins: inv(bill) tax(rates)  outs: -
total = inv.gross()
print(total)
