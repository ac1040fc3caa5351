# %% [markdown]
# # Walrus in elif and while tests
# An elif test runs only when the if test failed, so `(hit := ...)` there is a maybe-write:
# probe loads hit from init. A while test always runs at least once, so
# `(chunk := stream.pop())` binds chunk unconditionally: probe does not load init's chunk
# (init does not save it). `stream.pop()` mutates stream.
# %% tags=["block:init"]
# ins: -  outs: hit stream
hit = None
chunk = None
stream = [3, 2, 1, 0]
# %% tags=["block:probe"]
# ins: hit(init) stream(init)  outs: chunk hit stream
if len(stream) > 10:
    print("long stream")
elif (hit := stream[0]) > 2:
    print("first is big:", hit)
while (chunk := stream.pop()) < 2:
    pass
# %% tags=["block:report"]
# ins: chunk(probe) hit(probe) stream(probe)  outs: -
print(hit, chunk, stream)
