# Module-level reads, writes and mutations, in Python's evaluation order.
# See extract_test.go for the notation.

# %% assignment reads the right side before it binds
y = x + 1  # want: read x@5, write y@1
a = b = c  # want: read c, write a, write b
p, (q, *r) = s  # want: read s, write p, write q, write r
[e, f] = g  # want: read g, write e, write f
x: int = 1  # want: write x, read int
z: str  # want: read str
value = value + 1  # want: read value, write value

# %% augmented assignment is one mutation
x += 1  # want: mutate x
x.n += y  # want: read y, mutate x
x[i] -= 1  # want: read i, mutate x

# %% attribute and subscript targets mutate their root
x.a = f(y)  # want: read y, call f(y), mutate x
x[i] = v  # want: read v, read i, mutate x
a.b[k].c = 1  # want: read k, mutate a
a[i][j] = 0  # want: read j, read i, mutate a
f(x).attr = 1  # want: read x, call f(x)
(x).attr = 2  # want: mutate x

# %% del
del x  # want: del x
del x[k]  # want: read k, mutate x
del a, b.c, (d, e)  # want: del a, mutate b, del d, del e

# %% method calls mutate the name they hang from, after their arguments
# (a method called on a value no name holds is a `method` action, for the
# notebook's methods of that name; not on a literal)
x.append(1)  # want: mutate x
df.drop(c, inplace=True)  # want: read c, mutate df
a.b.c()  # want: read a
a[i].m(v)  # want: read i, read v, read a
np.save(path, arr)  # want: read path, read arr, mutate np, filewrite path
obj.method  # want: read obj
f(x).append(1)  # want: read x, call f(x), method append
"".join(parts)  # want: read parts
super().setup()  # want: call super, method setup

# %% calls pass positional names as Args
f(x)  # want: read x, call f(x)
f(x, 1, y, key=z)  # want: read x, read y, read z, call f(x _ y key=z)
f(*xs, y)  # want: read xs, read y, call f
f(a, *xs)  # want: read a, read xs, call f(a)
f(**kw)  # want: read kw, call f
f()  # want: call f
f()()  # want: call f, method ()
g(h(x))  # want: read x, call h(x), call g(_)
sum(v for v in vs)  # want: read vs, call sum(_)

# %% names that are not reads
obj.attr.other  # want: read obj
f(key=value)  # want: read value, call f(key=value)
print(f"{a}, {b.c!r:>{width}} {d=}")  # want: read a, read b, read width, read d, call print(_)
s = "{not_a_name}"  # want: write s:"{not_a_name}"

# %% walrus binds at module level
if (n := len(data)) > 2:  # want: read data, call len(data), write n<-len
    print(n)  # want: read n?, call print(n)?

# %% boolean and conditional expressions may skip operands
r = a and b or c  # want: read a, read b?, read c?, write r
r = x if cond else y  # want: read cond, read x?, read y?, write r
r = a and (w := 1)  # want: read a, write w?, write r

# %% dynamic scope
from m import *  # want: dynamic ;; import* : from m import *
globals()["x"] = 1  # want: dynamic, call globals
exec(code)  # want: read code, dynamic, call exec(code)
v = eval("1")  # want: dynamic, call eval(_), write v<-eval
print(locals(), vars())  # want: dynamic, call locals, dynamic, call vars, call print(_ _)
vars(obj)  # want: read obj, call vars(obj)

# %% lambdas read their free names, not their parameters
sorted(rows, key=lambda r: -r)  # want: read rows, call sorted(rows)
f = lambda a, b=dflt: a + b + c  # want: read dflt, write f:lambda ;; func f: args=a,b reads=c
if cond:  # want: read cond
    g = lambda: h(x)  # want: write g:lambda? ;; func g: reads=h,x calls=h

# %% odds and ends
type Alias = list[int]  # want: read list, read int, write Alias
global g  # (a no-op at module level)
class W:  # want: write W:class ;; func W: class
    v = (n := 1)
assert ok, msg  # want: read ok, read msg
raise Err(x) from cause  # want: read x, call Err(x), read cause
print(*args, sep=s)  # want: read args, read s, call print(sep=s)
x = [*a, *b], {**c}  # want: read a, read b, read c, write x
y = a[1:n:2], b[...]  # want: read a, read n, read b, write y
z = await fetch(u)  # want: read u, call fetch(u), write z
async for item in stream:  # want: read stream, write item?
    pass

# %% library calls known to change an argument in place
random.shuffle(deck)  # want: read deck, mutate random, mutate deck
np.random.shuffle(arr[0])  # want: read arr, mutate np, mutate arr
rng.shuffle(xs)  # want: read xs, mutate rng, mutate xs
shuffle(items)  # want: read items, call shuffle(items), mutate items
setattr(cfg.sub, "depth", 4)  # want: read cfg, call setattr(_ _ _), mutate cfg
heapq.heappush(h, 1)  # want: read h, mutate heapq, mutate h
np.copyto(dst, src)  # want: read dst, read src, mutate np, mutate dst
len(deck), sorted(arr)  # want: read deck, call len(deck), read arr, call sorted(arr)
other.heappush(h, 1)  # want: read h, mutate other

# %% keyword arguments that are module-level names
extend(bucket=others, item=5)  # want: read others, call extend(bucket=others)
extend(items, key=[k for k in ks])  # want: read items, read ks, call extend(items)
