# Runs each IPython input twice, as IPython's own TransformerManager
# translates it and as Datainsight translates it, against stand-ins for
# the kernel and for the step runtime that record what each asks for, and
# prints the cases whose behaviour differs: what they print, the names they
# leave bound, and the commands they run. The stand-ins give magics
# IPython's semantics where they touch the namespace (%time runs in it,
# %timeit in a function of its own, %%capture binds its name).
import contextlib
import io
import json
import sys

from IPython.core.inputtransformer2 import TransformerManager

# Line magics a step has no use for: the runtime drops them, and so does
# the comparison.
DROPPED = {"matplotlib", "config", "load_ext", "reload_ext", "autoreload", "aimport",
           "precision", "pylab", "pinfo", "pinfo2", "time", "prun"}


def timed(stmt, ns):
    # As %timeit does: the statement in a function of its own.
    body = "\n".join("    " + l for l in (stmt or "pass").splitlines()) or "    pass"
    exec(compile("def _inner():\n" + body + "\n_inner()", "<timeit>", "exec"), dict(ns))


def timeit_stmt(line):
    words = line.split()
    while words and words[0].startswith("-"):
        if words.pop(0) in ("-n", "-r", "-p") and words:
            words.pop(0)
    return line[line.find(words[0]):] if words else ""


class Captured:
    def __init__(self, out):
        self.stdout = out

    def __repr__(self):
        return "Captured(%r)" % self.stdout


class Kernel:
    """get_ipython() for the TransformerManager's translation."""

    def __init__(self, trace, ns):
        self.trace, self.ns = trace, ns

    def system(self, cmd):
        self.trace.append(["sh", cmd])

    def getoutput(self, cmd):
        self.trace.append(["getoutput", cmd])
        return ["out"]

    def run_line_magic(self, name, line):
        if name == "time":
            # As %time does: the line goes through the transformers.
            line = tm.transform_cell(line)
            try:
                return eval(compile(line, "<time>", "eval"), self.ns)
            except SyntaxError:
                exec(compile(line, "<time>", "exec"), self.ns)
                return None
        if name in DROPPED:
            return None
        if name == "timeit":
            self.trace.append(["timeit", line])
            timed(timeit_stmt(line), self.ns)
            return None
        self.trace.append(["magic", name, line])
        return "value of %" + name

    def run_cell_magic(self, name, line, body):
        if name == "capture":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(tm.transform_cell(body), "<capture>", "exec"), self.ns)
            words = [w for w in line.split() if not w.startswith("-")]
            self.ns[words[-1] if words else "_"] = Captured(out.getvalue())
            return None
        if name in ("time", "prun"):
            exec(compile(tm.transform_cell(body), "<cell>", "exec"), self.ns)
            return None
        if name == "timeit":
            self.trace.append(["timeit_cell", line, body])
            timed(body, self.ns)
            return None
        self.trace.append(["cell", name, line, body])
        return None


class Runtime:
    """The step runtime (_di) for Datainsight's translation."""

    def __init__(self, trace):
        self.trace = trace

    def sh(self, cmd):
        pip = '"$DATAINSIGHT_PYTHON_EXE" -m '
        if cmd.startswith(pip):
            name, _, args = cmd[len(pip):].partition(" ")
            self.trace.append(["magic", name, args])
            return
        self.trace.append(["sh", cmd])

    def getoutput(self, cmd):
        self.trace.append(["getoutput", cmd])
        return ["out"]

    def line_magic(self, name, line, ns):
        self.trace.append(["magic", name, line])
        return "value of %" + name

    def setenv(self, arg):
        self.trace.append(["magic", "env", arg])
        return "value of %env"

    def chdir(self, arg):
        self.trace.append(["magic", "cd", arg])

    def timeit(self, line, ns):
        self.trace.append(["timeit", line])
        timed(timeit_stmt(line), ns)

    def timeit_cell(self, line, body, ns):
        self.trace.append(["timeit_cell", line, body])
        timed(body, ns)

    def run_cell_magic(self, name, line, body, ns):
        self.trace.append(["cell", name, line, body])

    @contextlib.contextmanager
    def capture(self, args):
        out = io.StringIO()
        holder = Captured("")
        with contextlib.redirect_stdout(out):
            yield holder
        holder.stdout = out.getvalue()


def run(code, ns, trace):
    out = io.StringIO()
    try:
        compiled = compile(code, "<cell>", "exec")
    except SyntaxError as e:
        return {"syntax_error": True}
    try:
        with contextlib.redirect_stdout(out):
            exec(compiled, ns)
        err = None
    except Exception as e:  # the same exception type on both sides
        err = type(e).__name__
    names = {k: repr(v) for k, v in ns.items() if not k.startswith("_") and k not in ("get_ipython", "f", "g")}
    return {"syntax_error": False, "stdout": out.getvalue(), "error": err, "names": names, "trace": trace}


class Obj:
    def __repr__(self):
        return "obj"


def prelude():
    return {"f": lambda *a: 42, "g": lambda *a: 7, "x": 1, "obj": Obj()}


tm = TransformerManager()
failures = []
cases = json.load(sys.stdin)
for case in cases:
    src, ours = case["src"], case["python"]
    trace_i, trace_o = [], []
    ns_i = prelude()
    ns_i["get_ipython"] = lambda k=Kernel(trace_i, ns_i): k
    ipy = run(tm.transform_cell(src), ns_i, trace_i)
    ns_o = prelude()
    ns_o["_di"] = Runtime(trace_o)
    got = run(ours, ns_o, trace_o)
    if ipy != got:
        failures.append({"src": src, "ipython": tm.transform_cell(src), "ours": ours, "want": ipy, "got": got})
json.dump(failures, sys.stdout, indent=1, ensure_ascii=False)
