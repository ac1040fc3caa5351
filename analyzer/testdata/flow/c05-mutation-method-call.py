# %% [markdown]
# # mutation method call
# a method call on x (list.append, frame.drop(..., inplace=True)) makes x an input and an output; passing x as an argument (len(x), sorted(x)) only reads it
# count only passes seen to builtins, so it does not redefine seen: report loads seen from clean.
# %% [markdown]
# # Mutation by method call
# %% tags=["functions"]
class Frame:
    """A tiny stand-in for a DataFrame: drop(..., inplace=True) mutates."""

    def __init__(self, cols):
        self.cols = list(cols)

    def drop(self, col, inplace=False):
        rest = [c for c in self.cols if c != col]
        if inplace:
            self.cols = rest
            return None
        return Frame(rest)
# %% tags=["step:load"]
# ins: -  outs: frame seen
frame = Frame(["a", "b", "c"])
seen = []
# %% tags=["step:clean"]
# ins: frame(load) seen(load)  outs: frame seen
frame.drop("b", inplace=True)
seen.append("clean")
# %% tags=["step:count"]
# ins: seen(clean)  outs: n
n = len(seen)
print(sorted(seen))
# %% tags=["step:report"]
# ins: frame(clean) n(count) seen(clean)  outs: -
print(frame.cols, seen, n)
