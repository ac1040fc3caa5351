# %% [markdown]
# # Method calls cannot change a value of an immutable type
# Parameters are literals: a method call on a str, int, float or bool parameter, or a
# tuple of such (`SIZES.split(",")`, `RATE.is_integer()`, `SHAPE.index(2)`), cannot
# change it. parse and report use the parameters, with no param-reassigned warning,
# and nothing loads them. A list parameter is mutable: `LAYERS.append(8)` changes it in
# place (a warning), and build loads LAYERS from grow. A None default is not taken as
# immutable: a run may pass a list for it.
# %% tags=["pipeline-parameters"]
SIZES = "1,2"
RATE = 0.5
SHAPE = (2, 3)
LAYERS = [4, 2]
EXTRA = None
# %% tags=["block:parse"]
# ins: -  outs: sizes  params: RATE SHAPE SIZES
sizes = [int(x) for x in SIZES.split(",")]
print(sizes, RATE.is_integer(), SHAPE.index(2))
# %% tags=["block:report"]
# ins: sizes(parse)  outs: -  params: SIZES
print(SIZES.upper(), sizes)
# %% tags=["block:grow"]
# ins: -  outs: EXTRA LAYERS  params: EXTRA LAYERS
LAYERS.append(8)  # want: warning param-reassigned
EXTRA.append(1) if EXTRA is not None else None  # want: warning param-reassigned
# %% tags=["block:build"]
# ins: EXTRA(grow) LAYERS(grow)  outs: -
print(LAYERS, EXTRA)
# %% [markdown]
# ## Names bound to immutable literals
# label is a string, code an f-string, count a number, pair a tuple of literals: lower
# and upper call methods on them and only read them, so they are independent, and
# define saves each once. bump's `label += "!"` rebinds label: tail loads it from bump.
# shout, a function calling label.upper(), only reads it too.
# %% tags=["block:define"]
# ins: -  outs: code count label pair shout
label = "run"
code = f"{label}-1"
count = 3
pair = (1, "a")


def shout():
    return label.upper()
# %% tags=["block:lower"]
# ins: code(define) count(define) label(define) pair(define)  outs: -
print(label.lower(), code.split("-"), count.bit_length(), pair.count(1))
# %% tags=["block:upper"]
# ins: code(define) label(define) shout(define)  outs: -
print(label.upper(), code.title(), shout())
# %% tags=["block:bump"]
# ins: label(define)  outs: label
label += "!"
# %% tags=["block:tail"]
# ins: label(bump)  outs: -
print(label.endswith("!"))
# %% [markdown]
# ## An augmented assignment rebinds a name from the functions cell
# `TOTAL += 1` rebinds TOTAL (a warning): from then on it is an ordinary variable, and
# final loads it from count_up. A method call on a functions-cell name stays no
# mutation (`PREFIX.strip()`).
# %% tags=["functions"]
TOTAL = 0
PREFIX = " p "
# %% tags=["block:count_up"]
# ins: -  outs: TOTAL
TOTAL += 1  # want: warning shared-name-rebound
print(PREFIX.strip())
# %% tags=["block:final"]
# ins: TOTAL(count_up)  outs: -
print(TOTAL)
