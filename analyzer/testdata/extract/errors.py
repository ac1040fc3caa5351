# Syntax errors are problems at the error's position; what parsed is
# still extracted, and the extractor never fails.

# %% an error node
foo bar  # want: read bar ;; problem error syntax-error@1: invalid syntax near "foo"
x = 1  # want: write x

# %% a missing token
def f(:  # want: write f:function ;; func f: reads=x ;; problem error syntax-error@7: missing ")"
    return x

# %% an unclosed bracket swallows the rest of the cell
y = f(a  # problem error syntax-error@1: invalid syntax near "y = f(a
z = 2

# %% errors are capped at five per cell
a b  # want: read b ;; problem error syntax-error@1: near "a"
a b  # want: read b ;; problem error syntax-error@1: near "a"
a b  # want: read b ;; problem error syntax-error@1: near "a"
a b  # want: read b ;; problem error syntax-error@1: near "a"
a b  # want: read b ;; problem error syntax-error@1: near "a"
a b  # want: read b
a b  # want: read b

# %% statements indented differently from their block
if x:  # want: read x
    y = 1  # want: write y?
      z = 2  # want: write z? ;; problem error syntax-error@7: unexpected indentation
w = 3  # want: write w
 v = 4  # want: write v ;; problem error syntax-error@2: unexpected indentation
if y: a = 1  # want: read y, write a?
else:  b = 2  # want: write b?
x = 1; y = 2  # want: write x, write y
