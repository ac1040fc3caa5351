# %% [markdown]
# # Steps that each put the same value in a container stay parallel
# b and d each make a list holding a's value (the conformance suite's
# notebooks do). Making a group touches its members (a later change of the
# group loads them from there) but does not change them: d, and e which
# only reads v_a, load v_a from a, not from b, so b, d and e run side by
# side after a. (The price: a step changing v_b[0] would load v_a from d
# and v_b from b, two copies; siblings grouping one value and a later
# change through one of the groups is rare, parallel branches are not.)
# %% tags=["block:a"]
# ins: -  outs: v_a
v_a = [1]
# %% tags=["block:b"]
# ins: v_a(a)  outs: -
v_b = [v_a]
print("hello from b")
# %% tags=["block:d"]
# ins: v_a(a)  outs: -
v_d = [v_a]
print("hello from d")
# %% tags=["block:e"]
# ins: v_a(a)  outs: -
print(len(v_a))
