# %% [markdown]
# # Independent branches
# orders_stats and customer_stats read different names of load: no edge between them.
# banner reads nothing and depends on nothing. report joins the three.
# %% tags=["block:load"]
# ins: -  outs: customers orders
orders = [{"id": 1}, {"id": 2}]
customers = ["ann", "bob"]
# %% tags=["block:orders_stats"]
# ins: orders(load)  outs: n_orders
n_orders = len(orders)
# %% tags=["block:customer_stats"]
# ins: customers(load)  outs: n_customers
n_customers = len(customers)
# %% tags=["block:banner"]
# ins: -  outs: rule
rule = "=" * 20
# %% tags=["block:report"]
# ins: n_customers(customer_stats) n_orders(orders_stats) rule(banner)  outs: -
print(rule, n_orders, n_customers)
