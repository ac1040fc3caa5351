# %% [markdown]
# # f-strings read names
# Replacement fields, nested format specs (`{score:{width}.3f}`), the `=` specifier and
# expressions with calls inside the braces all read module-level names.
# %% tags=["block:metrics"]
# ins: -  outs: name score tags width
name = "model-a"
score = 0.91234
width = 8
tags = ["x", "y"]
# %% tags=["block:report"]
# ins: name(metrics) score(metrics) tags(metrics) width(metrics)  outs: line
line = f"{name!r}: {score:{width}.3f} [{'-'.join(tags)}]"
print(f"{line=}")
# %% tags=["block:more"]
# ins: line(report)  outs: -
print(f"{len(line)} chars")
