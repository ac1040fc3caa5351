# %% tags=["step:write"]
with open("note.txt", "w") as f:
    f.write("hello")
# %% tags=["step:read"]
for f in ["note.txt"]:
    print(open(f).read())
