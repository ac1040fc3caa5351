# Functions and classes: what a call reads, rebinds and mutates among
# module-level names (func directives), and what their definition does
# now: decorators, defaults and annotations run before the name is bound.

# %% free names, locals and parameters
def scaled(v, offset=bias) -> Result:  # want: read bias, read Result, write scaled:function@5 ;; func scaled: args=v,offset reads=factor
    local = v * factor
    return local + offset

def twice(v):  # want: write twice:function ;; func twice: args=v reads=scaled calls=scaled
    return scaled(v) * 2

# %% a local bound after its use is still local (UnboundLocalError)
def f():  # want: write f:function ;; func f: reads=print calls=print
    print(x)
    x = 1

# %% global: a blind rebind is a write, read-and-rebind a readwrite
def bump():  # want: write bump:function ;; func bump: reads=hits readwrites=hits
    global hits
    hits += 1

def rename(new):  # want: write rename:function ;; func rename: args=new writes=label
    global label
    label = new

def reset():  # want: write reset:function ;; func reset: reads=cache,clear calls=clear readwrites=cache
    global cache
    clear(cache)
    cache = {}

def maybe(flag):  # want: write maybe:function ;; func maybe: args=flag reads=state readwrites=state
    global state
    if flag:
        state = 1

def forget():  # want: write forget:function ;; func forget: reads=old readwrites=old
    global old
    del old

# %% mutations of free names and of parameters
def record(d, items, *rest, key=None, **kw):  # want: write record:function ;; func record: args=d,items reads=log,registry mutates=log,registry params=0,1
    d["k"] = 1
    items.append(key)
    rest.append(1)
    kw["x"] = 2
    log.append(d)
    registry.entries[key] = d
    d2 = d
    d2.x = 1

def shadow(a, /, b, c=1, *, d):  # want: write shadow:function ;; func shadow: args=a,b,c params=0,1,2
    a.x = 1
    b += [1]
    c[0] = 1
    d.y = 2

# %% nested functions: free names propagate, nonlocal stays local
def outer(p):  # want: write outer:function ;; func outer: args=p reads=g,h calls=h params=0
    count = 0
    def inner():
        nonlocal count
        count += 1
        p.append(g)
        return h()
    class Local:
        attr = count
        def m(self):
            return count
    return inner

# %% global in a nested function
def setup():  # want: write setup:function ;; func setup: reads=config readwrites=config
    def helper():
        global config
        config = {}
    helper()

# %% decorators run before the function is bound
@dec  # want: call dec
@app.route("/x")  # want: mutate app
@wraps(fn)  # want: read fn, call wraps(fn)
def view():  # want: write view:function ;; func view: reads=render calls=render
    return render()

# %% a class merges its methods; __init__ parameters shift past self
class Model(Base):  # want: read Base, write Model:class ;; func Model: args=data,n reads=history,np,print calls=print mutates=history,np params=0 class
    rate = default_rate  # want: read default_rate
    def __init__(self, data, n=rate):
        self.data = data
        data.append(1)
        history.append(self)
    def fit(self):
        np.random.seed(0)
        print(self.rate)
    @staticmethod  # want: call staticmethod
    def helper(x):
        x.clear()
    class Inner:
        def go(self):
            return history

# %% generators and files
def gen(n):  # want: write gen:function ;; func gen: args=n reads=range calls=range
    for i in range(n):
        yield i

g = gen(3)  # want: call gen(_), write g<-gen:gen
h = twice(3)  # want: call twice(_), write h<-twice

def save(df, path):  # want: write save:function ;; func save: args=df,path reads=open,out_path calls=open params=0 files=w"a.csv",rout_path,w"log.txt"
    df.to_csv("a.csv")
    df.to_csv(path)
    open(out_path).read()
    with open("log.txt", "a") as f:
        f.write("x")

# %% dynamic scope in a function
def dyn():  # want: write dyn:function ;; func dyn: reads=eval,globals,locals calls=eval,globals,locals dynamic
    locals()
    globals()
    return eval("x")

# %% a def inside if binds conditionally; the last definition wins
if cond:  # want: read cond
    def pick():  # want: write pick:function? ;; func pick: reads=a
        return b
else:
    def pick():  # want: write pick:function?
        return a

# %% functions inside a class body do not see class names
class K:  # want: write K:class ;; func K: reads=size class
    size = 3
    def area(self):
        return size * self.size
