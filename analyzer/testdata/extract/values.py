# What a write binds, where it matters for marshalling and file paths.

# %% value kinds
f = lambda x: x  # want: write f:lambda ;; func f: args=x
fh = open("data.txt")  # want: call open(_), fileread "data.txt", write fh<-open:open
fh2 = io.open("data.txt")  # want: mutate io, fileread "data.txt", write fh2
g = (x * 2 for x in xs)  # want: read xs, write g:gen
lk = threading.Lock()  # want: mutate threading, write lk:lock
rl = RLock()  # want: call RLock, write rl<-RLock:lock
sem = mp.Semaphore(2)  # want: mutate mp, write sem:lock
ev = threading.Event()  # want: mutate threading, write ev:lock
ev2 = other.Event()  # want: mutate other, write ev2
p = "out/data.csv"  # want: write p:"out/data.csv"
q = 'it\'s\t\x41\u00e9\N{DASH}'  # want: write q:"it's\tAé\\N{DASH}"
r = r"C:\new"  # want: write r:"C:\\new"
t = (  # want: write t:"multi\nline"@1
    """multi
line""")
u = "a" "b" 'c'  # want: write u:"abc"
v = ("paren")  # want: write v:"paren"
w = f"not {plain}"  # want: read plain, write w
b = b"bytes"  # want: write b
a, c = "x", "y"  # want: write a, write c
n = 1  # want: write n
(m := "walrus")  # want: write m:"walrus"
