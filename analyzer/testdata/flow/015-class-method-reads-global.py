# %% [markdown]
# # A class whose method reads a global
# define only runs the class body (which reads no module name: `currency` is a class
# attribute). bill instantiates Invoice and calls its gross method, which reads tax:
# bill loads Invoice and tax. report only reads an attribute of inv.
# %% tags=["block:rates"]
# ins: -  outs: tax
tax = 0.2
# %% tags=["block:define"]
# ins: -  outs: Invoice
class Invoice:
    currency = "EUR"

    def __init__(self, net):
        self.net = net

    def gross(self):
        return round(self.net * (1 + tax), 2)
# %% tags=["block:bill"]
# ins: Invoice(define) tax(rates)  outs: inv
inv = Invoice(100)
print(inv.gross(), Invoice.currency)
# %% tags=["block:report"]
# ins: inv(bill)  outs: -
print(inv.net)
