# File reads and writes (file edges): a literal path, or the
# name holding it; recorded besides the call's ordinary effects.

# %% open and its modes
open("a.txt")  # want: call open(_), fileread "a.txt"@6
open("a.txt", "w")  # want: call open(_ _), filewrite "a.txt"
open("a.bin", mode="rb")  # want: call open(_), fileread "a.bin"
open(file="b.txt", mode="a")  # want: call open, filewrite "b.txt"
open("c.txt", "r+")  # want: call open(_ _), fileread "c.txt", filewrite "c.txt"
open("d.txt", "xb")  # want: call open(_ _), filewrite "d.txt"
open(p, m)  # want: read p, read m, call open(p m)
open(path, "wb")  # want: read path, call open(path _), filewrite path
open(f"{d}/x.txt", "w")  # want: read d, call open(_ _)
with open("out.txt", "w") as fh:  # want: call open(_ _), filewrite "out.txt", write fh
    fh.write("hello")  # want: mutate fh?
pickle.dump(model, open("m.pkl", "wb"))  # want: read model, call open(_ _), filewrite "m.pkl", mutate pickle

# %% pandas, numpy, matplotlib, joblib, torch
df.to_csv("out/data.csv", index=False)  # want: mutate df, filewrite "out/data.csv"
df.to_parquet(path="p.parquet")  # want: mutate df, filewrite "p.parquet"
frame().to_json("j.json")  # want: call frame, filewrite "j.json", method to_json
df.to_pickle(target)  # want: read target, mutate df, filewrite target
plt.savefig("fig.png", dpi=100)  # want: mutate plt, filewrite "fig.png"
np.save("a.npy", arr)  # want: read arr, mutate np, filewrite "a.npy"
numpy.savez("b.npz", x=a)  # want: read a, mutate numpy, filewrite "b.npz"
joblib.dump(clf, "clf.joblib")  # want: read clf, mutate joblib, filewrite "clf.joblib"
torch.save(net.state_dict(), "net.pt")  # want: mutate net, mutate torch, filewrite "net.pt"
df = pd.read_csv("in.csv")  # want: mutate pd, fileread "in.csv", write df
t = pd.read_parquet(path="t.parquet")  # want: mutate pd, fileread "t.parquet", write t
x = np.load("a.npy")  # want: mutate np, fileread "a.npy", write x
clf = joblib.load("clf.joblib")  # want: mutate joblib, fileread "clf.joblib", write clf
net = torch.load(weights)  # want: read weights, mutate torch, fileread weights, write net
read_csv("bare.csv")  # want: call read_csv(_), fileread "bare.csv"
json.load(fh)  # want: read fh, mutate json
other.save("x")  # want: mutate other
Path("notes.txt").write_text(s)  # want: call Path(_), read s, filewrite "notes.txt", method write_text
text = pathlib.Path("notes.txt").read_text()  # want: mutate pathlib, fileread "notes.txt", method read_text, write text

# %% conditional file actions
if save:  # want: read save
    df.to_csv("maybe.csv")  # want: mutate df?, filewrite "maybe.csv"?

# %% %%writefile is a file write
%%writefile -a src/helper.py
def helper():
    return 1
# cell lang=Text magic=writefile args="-a src/helper.py" ;; problem warning cell-magic@1:1: run_cell_magic
# want@1: filewrite "src/helper.py"@16
