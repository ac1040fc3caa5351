# Comprehensions, generator expressions, lambdas and class bodies have
# their own scopes. See extract_test.go for the notation.

# %% comprehension variables do not leak; the first iterable is outside
grid = [[r * c for c in cols] for r in rows]  # want: read rows, read cols?, write grid
lookup = {x: x * 2 for x in range(3)}  # want: call range(_), write lookup
total = sum(y for y in rows)  # want: read rows, call sum(_), write total<-sum
evens = {n for n in nums if n % k == 0}  # want: read nums, read k?, write evens
pairs = [(a, b) for a in xs if a for b in ys if b > a]  # want: read xs, read ys?, write pairs
gen = (f(v) for v in data)  # want: read data, call f(_)?, write gen:gen
print(x)  # want: read x, call print(x)

# %% the first iterable may use an outer name of the same name
x = [x for x in x]  # want: read x, write x

# %% walrus in a comprehension binds the enclosing scope
flags = [(biggest := v) > 2 for v in data]  # want: read data, write biggest?, write flags

# %% comprehension loop targets can be attributes (mutation of the root)
[0 for obj.attr in items]  # want: read items, mutate obj?

# %% class bodies run now; their names are class attributes
class Counter(Base, metaclass=Meta):  # want: read Base, read Meta, write Counter:class@7 ;; func Counter: class
    stride = base_rate * 2  # want: read base_rate
    double = stride * 2
    items = [stride for _ in range(3)]  # want: call range(_), read stride?
    label: str = name  # want: read name, read str
    later = unbound_yet  # want: read unbound_yet
    unbound_yet = 1

# %% a class body's names are invisible to methods and comprehensions
class C:  # want: write C:class ;; func C: reads=k class
    k = 1
    vals = [k for _ in ks]  # want: read ks, read k?
    def m(self, d=k):
        return k

# %% class body augmented assignment reads the global first
class D:  # want: write D:class ;; func D: class
    total += 1  # want: read total
    total += 1

# %% global declared in a class body binds the module name
class E:  # want: write E:class ;; func E: class
    global registry
    registry = {}  # want: write registry

# %% lambda defaults are evaluated now, parameters are local
key = lambda row, col=default: row[col] + offset  # want: read default, write key:lambda ;; func key: args=row,col reads=offset

# %% lambda bodies: calls and mutations are only reads, nothing runs yet
cb = lambda: log.append(msg)  # want: write cb:lambda ;; func cb: reads=log,msg mutates=log
handler = lambda e: (yield_ := e)  # want: write handler:lambda ;; func handler: args=e

# %% nested lambdas and comprehensions inside lambdas
f = lambda xs: [g(x) for x in xs if x > lim]  # want: write f:lambda ;; func f: args=xs reads=g,lim calls=g

# %% From names only module-level callees
ys = [(y := mk()) for mk in makers]  # want: read makers, write y?, write ys
