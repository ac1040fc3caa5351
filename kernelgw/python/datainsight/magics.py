"""The %datainsight line magic.

    %datainsight run [NOTEBOOK] [--backend argo] [--param k=v]... [-d]
    %datainsight status [RUN]
    %datainsight logs RUN [STEP]
    %datainsight check [NOTEBOOK]
    %datainsight explore RUN STEP [--notebook NOTEBOOK] [--backend argo]

Errors (no sidecar, a refused token, a failed method, bad arguments) are
printed as one line on stderr, never as a traceback.
"""

import argparse
import builtins
import contextlib
import datetime
import html
import io
import itertools
import json
import os
import shlex
import sys
import time

from . import client as _client

POLL_INTERVAL = 0.5

ENDED = ("Succeeded", "Failed", "Error", "Cancelled")

USAGE = """usage:
  %datainsight run [NOTEBOOK] [--backend argo] [--param k=v]... [-d]
  %datainsight status [RUN]
  %datainsight logs RUN [STEP]
  %datainsight check [NOTEBOOK]
  %datainsight explore RUN STEP [--notebook NOTEBOOK] [--backend argo]"""


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError("%s: %s" % (self.prog, message))

    def exit(self, status=0, message=None):
        raise UsageError(message or "")


def _parsers():
    run = _Parser(prog="%datainsight run", add_help=False)
    run.add_argument("notebook", nargs="?")
    run.add_argument("--backend", choices=("local", "argo"))
    run.add_argument("--param", "-p", action="append", default=[], metavar="K=V")
    run.add_argument("-d", "--detach", action="store_true")
    run.add_argument("--no-cache", action="store_true")
    status = _Parser(prog="%datainsight status", add_help=False)
    status.add_argument("run", nargs="?")
    status.add_argument("--backend", choices=("local", "argo"))
    logs = _Parser(prog="%datainsight logs", add_help=False)
    logs.add_argument("run")
    logs.add_argument("step", nargs="?")
    logs.add_argument("--backend", choices=("local", "argo"))
    check = _Parser(prog="%datainsight check", add_help=False)
    check.add_argument("notebook", nargs="?")
    explore = _Parser(prog="%datainsight explore", add_help=False)
    explore.add_argument("run")
    explore.add_argument("step")
    explore.add_argument("--notebook")
    explore.add_argument("--backend", choices=("local", "argo"))
    return {"run": run, "status": status, "logs": logs, "check": check, "explore": explore}


class Magic:
    """The state behind %datainsight in one kernel: the sidecar client and
    the notebooks of the runs started from here."""

    def __init__(self, shell=None, client_factory=None):
        self.shell = shell
        self._client_factory = client_factory or _client.Client
        self._client = None
        self.runs = {}  # run id -> notebook path it was started from

    # -- plumbing ------------------------------------------------------

    def client(self):
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def __call__(self, line):
        try:
            return self.dispatch(line)
        except UsageError as e:
            msg = str(e).strip()
            print("datainsight: %s\n%s" % (msg, USAGE) if msg else USAGE, file=sys.stderr)
        except _client.Error as e:
            # A client that could not connect or authenticate is made
            # again next time: the user may start the sidecar, or fix the
            # environment, meanwhile.
            if isinstance(e, (_client.Unreachable, _client.Unauthorized, _client.NotConfigured)):
                self._client = None
            print("datainsight: %s" % e, file=sys.stderr)
        except KeyboardInterrupt:
            print("datainsight: interrupted", file=sys.stderr)

    def dispatch(self, line):
        try:
            words = shlex.split(line)
        except ValueError as e:
            raise UsageError(str(e))
        if not words or words[0] in ("-h", "--help", "help"):
            raise UsageError("")
        cmd, args = words[0], words[1:]
        parsers = _parsers()
        if cmd not in parsers:
            raise UsageError("unknown command %r" % cmd)
        opts = parsers[cmd].parse_args(args)
        return getattr(self, "do_" + cmd)(opts)

    # -- the notebook ----------------------------------------------------

    def own_notebook(self):
        """The kernel's own notebook, where the Jupyter server said which."""
        path = os.environ.get("JPY_SESSION_NAME", "")
        if not path and self.shell is not None:
            path = self.shell.user_ns.get("__session__", "") or ""
        if not isinstance(path, str):
            return None
        return path or None

    @staticmethod
    def resolve(path):
        """An absolute path for a notebook the kernel can see, else path as
        given (the sidecar resolves it against its root)."""
        p = os.path.expanduser(path)
        if os.path.isabs(p):
            return p
        if os.path.exists(p):
            return os.path.abspath(p)
        base = os.path.basename(p)
        if base and os.path.exists(base):
            # The server's path is relative to its root; the kernel runs
            # in the notebook's folder.
            return os.path.abspath(base)
        return path

    def notebook(self, given):
        if given:
            return self.resolve(given)
        own = self.own_notebook()
        if own:
            return self.resolve(own)
        raise UsageError("which notebook? This kernel does not know its notebook: "
                         "%datainsight run NOTEBOOK")

    # -- commands ----------------------------------------------------------

    def do_run(self, o):
        params = {}
        for kv in o.param:
            k, sep, v = kv.partition("=")
            if not sep or not k.strip():
                raise UsageError("--param %r: want NAME=VALUE" % kv)
            params[k.strip()] = v
        path = self.notebook(o.notebook)
        req = {"path": path}
        if params:
            req["params"] = params
        if o.backend:
            req["backend"] = o.backend
        if o.no_cache:
            req["no_cache"] = True
        c = self.client()
        started = c.call("run", req)
        run_id = started["id"]
        self.runs[run_id] = path
        if o.detach:
            print("run %s started (%s): follow it with %%datainsight status %s" % (
                run_id, started.get("run", {}).get("phase", "Pending"), run_id))
            return None
        return self.follow(run_id, path, o.backend, started.get("run"))

    def follow(self, run_id, path, backend, run=None):
        """Shows the run's progress in place until it ends; returns nothing
        (the cell's output is the display)."""
        handle = None
        ref = {"run": run_id, "path": path}
        if backend:
            ref["backend"] = backend
        c = self.client()
        last = None
        try:
            while True:
                if run is None or run.get("phase") not in ENDED:
                    run = c.call("run.get", ref)
                text = render_text(run)
                if text != last:
                    handle = _show(handle, run, text)
                    last = text
                if run.get("phase") in ENDED:
                    break
                time.sleep(POLL_INTERVAL)
                run = None
        except KeyboardInterrupt:
            print("datainsight: stopped watching; run %s goes on: %%datainsight status %s" % (run_id, run_id),
                  file=sys.stderr)
            return None
        phase = run.get("phase")
        line = "run %s %s" % (run_id, phase)
        if run.get("message"):
            line += ": " + run["message"]
        if phase != "Succeeded":
            line += " (%%datainsight logs %s)" % run_id
        print(line)
        return None

    def do_status(self, o):
        c = self.client()
        if o.run:
            ref = {"run": o.run}
            path = self.runs.get(o.run) or self._own_resolved()
            if path:
                ref["path"] = path
            if o.backend:
                ref["backend"] = o.backend
            run = c.call("run.get", ref)
            _show(None, run, render_text(run))
            return None
        req = {}
        path = self._own_resolved()
        if path:
            req["path"] = path
        if o.backend:
            req["backend"] = o.backend
        runs = c.call("runs", req).get("runs") or []
        if not runs:
            print("no runs%s" % (" of " + path if path else ""))
            return None
        for r in runs[:20]:
            print("%-24s %-10s %s  %s" % (r.get("id"), r.get("phase"), _when(r.get("created")),
                                          r.get("notebook") or r.get("pipeline") or ""))
        return None

    def do_logs(self, o):
        ref = {"run": o.run}
        path = self.runs.get(o.run) or self._own_resolved()
        if path:
            ref["path"] = path
        if o.backend:
            ref["backend"] = o.backend
        if o.step:
            ref["step"] = o.step
        res = self.client().call("run.logs", ref)
        sys.stdout.write(res.get("logs") or "")
        if res.get("truncated"):
            print("\n[output truncated: datainsight logs %s%s prints it all]" % (
                o.run, " " + o.step if o.step else ""))
        return None

    def do_check(self, o):
        """Whether every value a step outputs, as this kernel has it now,
        can be passed to the steps that load it: before anything runs."""
        path = self.notebook(o.notebook)
        res = self.here(self.client().call("check", {"path": path}))
        bad = res.get("unsavable") or []
        for u in bad:
            print("%s (%s), output of step %s: %s" % (u.get("name"), u.get("type"), u.get("step"), u.get("reason")))
        missing = res.get("missing") or []
        summary = "%d output%s checked" % (res.get("checked", 0), "" if res.get("checked") == 1 else "s")
        summary += ": %d cannot be passed between steps" % len(bad) if bad else ": all can be passed between steps"
        if missing:
            summary += "; not defined here yet (their cells have not run): " + ", ".join(missing)
        print(summary)
        return None

    def do_explore(self, o):
        """Binds here the values a step of a past run loaded, and the
        parameters it used, to debug that step's cells."""
        req = {"run": o.run, "step": o.step}
        if o.backend:
            req["backend"] = o.backend
        path = self.resolve(o.notebook) if o.notebook else self.runs.get(o.run) or self._own_resolved()
        if path:
            req["path"] = path
        res = self.here(self.client().call("explore", req))
        for b in res.get("bound") or []:
            shape = b.get("shape")
            what = b.get("type", "")
            if shape is not None:
                what += " " + "x".join(str(n) for n in shape)
            elif b.get("length") is not None:
                what += " of %d" % b["length"]
            print("%-20s %-40s from %s" % (b.get("name"), what, b.get("source")))
        for u in res.get("unavailable") or []:
            print("%-20s not loaded: %s" % (u.get("name"), u.get("reason")), file=sys.stderr)
        print("step %s of run %s: %d value%s bound" % (o.step, o.run, len(res.get("bound") or []),
                                                       "" if len(res.get("bound") or []) == 1 else "s"))
        return None

    @staticmethod
    def here(res):
        """Runs the code the sidecar sent for this kernel (it cannot run it
        through Jupyter while this cell runs) and returns the answer it
        printed, merged into res. The code keeps its own names to itself."""
        code, marker = res.pop("code", None), res.pop("marker", None)
        if not code:
            return res
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<datainsight>", "exec"), {"__builtins__": builtins, "__name__": "__datainsight__"})
        answer = None
        for line in out.getvalue().splitlines():
            if line.startswith(marker):
                answer = json.loads(line[len(marker):])
        if answer is None:
            raise _client.Error("the sidecar's code printed no answer")
        res.update(answer)
        return res

    def _own_resolved(self):
        own = self.own_notebook()
        return self.resolve(own) if own else None


# -- rendering ---------------------------------------------------------------

def _parse_time(s):
    if not s:
        return None
    try:
        s = s.replace("Z", "+00:00")
        if "." in s:  # Go writes nanoseconds; Python takes up to microseconds
            head, _, tail = s.partition(".")
            digits = "".join(itertools.takewhile(str.isdigit, tail))
            s = head + "." + digits[:6].ljust(6, "0") + tail[len(digits):]
        return datetime.datetime.fromisoformat(s)
    except ValueError:
        return None


def _duration(start, end):
    a, b = _parse_time(start), _parse_time(end)
    if a is None:
        return ""
    if b is None:
        b = datetime.datetime.now(datetime.timezone.utc)
    secs = max((b - a).total_seconds(), 0)
    if secs < 60:
        return "%.1fs" % secs
    if secs >= 3600:
        return "%dh%02dm" % (secs // 3600, secs % 3600 // 60)
    return "%dm%02ds" % (secs // 60, secs % 60)


def _when(s):
    t = _parse_time(s)
    return t.astimezone().strftime("%Y-%m-%d %H:%M:%S") if t else ""


def render_text(run):
    phase = run.get("phase", "?")
    head = "run %s  %s" % (run.get("id", "?"), phase)
    d = _duration(run.get("started") or run.get("created"), run.get("finished"))
    if d:
        head += "  " + d
    lines = [head]
    if run.get("message"):
        lines.append("  " + run["message"])
    steps = run.get("steps") or []
    width = max([len(s.get("name", "")) for s in steps] + [4])
    for s in steps:
        extra = []
        if s.get("cached"):
            extra.append("cached")
        d = _duration(s.get("started"), s.get("finished")) if s.get("started") else ""
        if d:
            extra.append(d)
        if s.get("message"):
            extra.append(s["message"])
        lines.append("  %-*s  %-9s %s" % (width, s.get("name", ""), s.get("phase", ""), "  ".join(extra)))
    return "\n".join(lines).rstrip()


_COLORS = {"Succeeded": "#2e7d32", "Failed": "#c62828", "Error": "#c62828", "Running": "#1565c0",
           "Cancelled": "#6d4c41", "Skipped": "#757575", "Pending": "#757575"}


def render_html(run, text):
    out = []
    for line in html.escape(text).split("\n"):
        for phase, color in _COLORS.items():
            line = line.replace(" " + phase, ' <span style="color:%s;font-weight:bold">%s</span>' % (color, phase), 1)
        out.append(line)
    return "<pre>%s</pre>" % "\n".join(out)


def _show(handle, run, text):
    """Shows text (and its HTML form) in the cell, replacing what handle
    showed; returns the handle. Without IPython it prints."""
    try:
        from IPython.display import display
    except ImportError:
        print(text)
        return None
    bundle = {"text/plain": text, "text/html": render_html(run, text)}
    if handle is None:
        return display(bundle, raw=True, display_id=True)
    handle.update(bundle, raw=True)
    return handle
