# %% [markdown]
# # diamond
# one producer, two independent branches (no edge between them: they run in parallel), one join
# %% [markdown]
# # Diamond
# split_even and split_odd only read nums, so they do not depend on each other.
# %% tags=["step:load"]
# ins: -  outs: nums
nums = [1, 2, 3, 4]
# %% tags=["step:split_even"]
# ins: nums(load)  outs: evens
evens = [n for n in nums if n % 2 == 0]
# %% tags=["step:split_odd"]
# ins: nums(load)  outs: odds
odds = [n for n in nums if n % 2 == 1]
# %% tags=["step:merge"]
# ins: evens(split_even) odds(split_odd)  outs: -
merged = sorted(evens + odds)
print(merged)
