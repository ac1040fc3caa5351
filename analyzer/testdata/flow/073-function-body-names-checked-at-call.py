# %% [markdown]
# # A function's free names are checked where it is called
# define's body reads scale_factor, which no cell defines: defining the function is no
# error (Python only looks the name up when the function runs). apply calls it: the
# undefined name is reported at the call.
# %% tags=["block:define"]
# ins: -  outs: rescale
def rescale(v):
    return v * scale_factor
# %% tags=["block:apply"]
# ins: rescale(define)  outs: -
print(rescale(2))  # want: error undefined-name
