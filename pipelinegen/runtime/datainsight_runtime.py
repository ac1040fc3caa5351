"""Datainsight step runtime.

Every generated step script imports this module (it is written once per run
next to the marshal root, never inlined into the scripts) and drives one
``Step``::

    import datainsight_runtime as _di
    _di_step = _di.Step("train", notebook="examples/iris.ipynb")
    lr = _di_step.param("lr", 0.1)
    _di_step.run_cell(1, "import numpy as np\\n", globals(), role="imports")
    df = _di_step.load("df", "load")
    _di_step.run_cell(4, "model.fit(df)\\nscore = model.score(df)\\n", globals())
    _di_step.save(globals(), {"model": 4, "score": 4})
    _di_step.metrics(globals(), ["score"])
    _di_step.finish()

Values live at ``<root>/<run>/<producer step>/<name>.<ext>`` with one
``manifest.json`` per producer, written last; every file is written to a
temporary name in the same directory, fsynced and renamed, so a reader sees a
whole value or none. Values that share objects are saved together, in
``group-<first name>.<ext>`` (see save_group), so that they share them again
where they are loaded. The manifest also records the step's module bindings,
which the steps loading from it bind in turn (see _InheritedModule).

Only the standard library is imported here. numpy, pandas, dill, torch,
joblib, ... are imported when a value that needs them is saved or loaded: a
step that passes ints must not pay for numpy, and a value whose type comes
from a module that is not imported yet cannot be an instance of it.

Exit status of a step: 0 success, 1 a cell failed, 2 a value, its manifest
or a parameter could not be handled. After a failure the remaining calls
are no-ops and finish() writes the report; should the script end without
finish(), an atexit hook still writes it and exits with the failure status.

IPython syntax, as the generator rewrites it: `!cmd` -> sh(cmd) (under a
pseudo-terminal, as ipykernel runs it), `x = !cmd` -> getoutput(cmd),
`%%capture NAME` -> `with capture(args) as NAME:`, `%env` -> setenv(arg),
`%cd` -> chdir(arg), other magics ->
line_magic(name, line, globals()) / run_cell_magic(name, line, body,
globals()), which need IPython. Commands expand {expr} and $name as IPython
does.

Environment: DATAINSIGHT_MARSHAL_ROOT, DATAINSIGHT_RUN_ID,
DATAINSIGHT_PARAM_<name> (a Python literal), DATAINSIGHT_VERIFY=1 (check
checksums on load), DATAINSIGHT_ARTIFACTS=1 (artifacts mode: each value
also under <name>.artifact, see _link_artifacts).
"""

import ast
import hashlib
import io
import json
import linecache
import os
import pickle
import re
import select
import signal
import sys
import threading
import time
import traceback
import types

# Before any cell imports matplotlib: steps have no display, and the default
# backend would either fail or pop up windows on a workstation.
os.environ.setdefault("MPLBACKEND", "Agg")
# `%pip install x` becomes `!"$DATAINSIGHT_PYTHON_EXE" -m pip install x`:
# packages go to the interpreter that runs the step.
os.environ.setdefault("DATAINSIGHT_PYTHON_EXE", sys.executable)

__all__ = [
    "Step", "MarshalError", "ParameterError", "MagicError",
    "sh", "getoutput", "run_cell_magic", "line_magic", "run_line_magic", "capture", "setenv", "chdir",
    "save_value", "load_value", "read_manifest", "verify_file", "RNG_STATES", "rng_state", "set_rng_state",
    "EXIT_OK", "EXIT_CELL_FAILED", "EXIT_MARSHAL_FAILED",
]

EXIT_OK = 0
EXIT_CELL_FAILED = 1
EXIT_MARSHAL_FAILED = 2

ENV_ROOT = "DATAINSIGHT_MARSHAL_ROOT"
ENV_RUN = "DATAINSIGHT_RUN_ID"
ENV_PARAM_PREFIX = "DATAINSIGHT_PARAM_"
ENV_VERIFY = "DATAINSIGHT_VERIFY"
ENV_KEEP_LOG = "DATAINSIGHT_KEEP_LOG"
ENV_ARTIFACTS = "DATAINSIGHT_ARTIFACTS"

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
REPORT_IPYNB = "report.ipynb"
REPORT_HTML = "report.html"
METRICS = "metrics.json"
READS = "files-read.json"
LOG = "output.log"
TMP_PREFIX = ".tmp-"
ARTIFACT_EXT = ".artifact"

_THIS_FILE = os.path.normcase(os.path.abspath(__file__))
_STEP_NAME = re.compile(r"^[_a-z][_a-z0-9]*$")
_RUN_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")

_EXT = {
    "npy": ".npy",
    "parquet": ".parquet",
    "pickle": ".pkl",
    "dill": ".dill",
    "torch": ".pt",
    "joblib": ".joblib",
    "xgboost": ".ubj",
    "dmatrix": ".dmatrix",
    "keras": ".keras",
    "torchscript": ".torchscript",
}


class MarshalError(Exception):
    """A value could not be saved or loaded; the message names the value."""


class ParameterError(ValueError):
    """A pipeline parameter override is not usable; the message names it."""


class MagicError(RuntimeError):
    """A cell or line magic cannot run in this interpreter."""


# ---------------------------------------------------------------------------
# Atomic, checksummed file writing

# Large writes are cut into chunks so that hashing one chunk (in a thread;
# hashlib releases the GIL) overlaps writing the next: sha256 alone runs at
# roughly the speed of a fast disk, so doing both in turn would halve it.
_CHUNK = 16 << 20
_SMALL = 1 << 20
# Writeback is started every _SYNC_EVERY bytes so the final fsync does not
# find gigabytes still dirty in the page cache: they would count against a
# pod's memory limit, and the disk would sit idle while we hash and copy.
_SYNC_EVERY = 64 << 20

_sync_file_range = None  # None: not looked up yet; False: unavailable


def _start_writeback(fd, offset, length):
    global _sync_file_range
    if _sync_file_range is None:
        _sync_file_range = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes
                fn = ctypes.CDLL(None, use_errno=True).sync_file_range
                fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
                fn.restype = ctypes.c_int
                _sync_file_range = fn
            except (OSError, AttributeError):
                pass
    if _sync_file_range:
        _sync_file_range(fd, offset, length, 2)  # SYNC_FILE_RANGE_WRITE: start, don't wait


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the rename still happened
    finally:
        os.close(fd)


def _as_bytes_view(data):
    if isinstance(data, pickle.PickleBuffer):
        try:
            return data.raw()
        except BufferError:
            return memoryview(bytes(data))
    mv = memoryview(data)
    if mv.ndim == 1 and mv.format == "B" and mv.c_contiguous:
        return mv
    try:
        return mv.cast("B")
    except (TypeError, ValueError):
        return memoryview(mv.tobytes())


class _AtomicFile:
    """A write-only file that appears under its final name only on commit().

    It hashes what it writes (sha256, in the same pass) and counts bytes, so
    the manifest gets size and checksum without reading the file again.
    """

    def __init__(self, path):
        self.path = path
        directory, base = os.path.split(path)
        # The temporary name keeps the final extension: keras and xgboost
        # choose their format from it.
        self.tmp = os.path.join(directory, "%s%d-%s-%s" % (TMP_PREFIX, os.getpid(), os.urandom(4).hex(), base))
        self._fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
        self._hash = hashlib.sha256()
        self._size = 0
        self._buf = bytearray()
        self._queue = None
        self._thread = None
        self._synced = 0
        self.closed = False

    # File-object protocol used by pickle, joblib and torch.
    def writable(self):
        return True

    def seekable(self):
        return False

    def readable(self):
        return False

    def tell(self):
        return self._size + len(self._buf)

    def flush(self):
        pass

    def write(self, data):
        mv = _as_bytes_view(data)
        n = mv.nbytes
        if n < _SMALL:
            self._buf += mv
            if len(self._buf) >= 4 * _SMALL:
                self._flush_buf()
            return n
        self._flush_buf()
        self._write_large(mv)
        # The caller may reuse or free its buffer as soon as write() returns,
        # so the hash must have consumed it by then.
        self._wait_hash()
        return n

    def write_owned(self, data):
        """Write a buffer that stays unchanged until commit(): hashing may lag."""
        self._flush_buf()
        self._write_large(_as_bytes_view(data))

    def _write_all(self, mv):
        while mv:
            n = os.write(self._fd, mv)
            mv = mv[n:]

    def _update_hash(self, data):
        if self._queue is not None:
            self._queue.put(data)
        else:
            self._hash.update(data)

    def _flush_buf(self):
        if not self._buf:
            return
        buf, self._buf = self._buf, bytearray()
        self._update_hash(buf)  # ours alone: nothing mutates it afterwards
        self._write_all(memoryview(buf))
        self._size += len(buf)

    def _write_large(self, mv):
        if self._queue is None:
            import queue
            self._queue = queue.SimpleQueue()
            self._thread = threading.Thread(target=self._hash_loop, name="datainsight-sha256", daemon=True)
            self._thread.start()
        for off in range(0, mv.nbytes, _CHUNK):
            chunk = mv[off:off + _CHUNK]
            self._queue.put(chunk)
            self._write_all(chunk)
            self._size += chunk.nbytes
            if self._size - self._synced >= _SYNC_EVERY:
                _start_writeback(self._fd, self._synced, self._size - self._synced)
                self._synced = self._size

    def _hash_loop(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            self._hash.update(item)

    def _wait_hash(self):
        if self._queue is not None:
            done = threading.Event()
            self._queue.put(done)
            done.wait()

    def _stop_hasher(self):
        if self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = None

    def commit(self, sync_dir=True):
        """fsync, rename into place, fsync the directory; returns (size, checksum).

        sync_dir=False leaves the directory fsync to the caller, who may
        make several renames durable with one (the manifest comes after).
        """
        try:
            self._flush_buf()
            if self._queue is not None:
                self._queue.put(None)  # the hash finishes while fsync waits for the disk
            os.fsync(self._fd)
            self._stop_hasher()
            os.close(self._fd)
            self.closed = True
            os.replace(self.tmp, self.path)
        except BaseException:
            self.abort()
            raise
        if sync_dir:
            _fsync_dir(os.path.dirname(self.path) or ".")
        return self._size, "sha256:" + self._hash.hexdigest()

    def abort(self):
        try:
            self._stop_hasher()
        finally:
            if not self.closed:
                self.closed = True
                try:
                    os.close(self._fd)
                except OSError:
                    pass
            try:
                os.unlink(self.tmp)
            except OSError:
                pass


def _hash_file(path):
    h = hashlib.sha256()
    size = 0
    buf = bytearray(_CHUNK)
    mv = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(mv)
            if not n:
                break
            h.update(mv[:n])
            size += n
    return size, "sha256:" + h.hexdigest()


def _commit_path(tmp, path, sync_dir=True):
    """Commit a file that a library wrote by path (xgboost, keras, parquet)."""
    size, checksum = _hash_file(tmp)
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if sync_dir:
        _fsync_dir(os.path.dirname(path) or ".")
    return size, checksum


def _write_file_atomic(path, data):
    f = _AtomicFile(path)
    try:
        f.write(data)
    except BaseException:
        f.abort()
        raise
    return f.commit()


def verify_file(path, checksum):
    """Raise MarshalError unless the file at path has the given checksum."""
    algo, _, want = checksum.partition(":")
    if algo != "sha256":
        raise MarshalError("cannot verify %s: unknown checksum algorithm %r" % (path, algo))
    _, got = _hash_file(path)
    if got != checksum:
        raise MarshalError("%s is damaged: its checksum is %s, the manifest says %s" % (path, got, checksum))


# ---------------------------------------------------------------------------
# Type inspection without importing the libraries

def _type_name(t):
    module = getattr(t, "__module__", None) or "?"
    qualname = getattr(t, "__qualname__", None) or getattr(t, "__name__", "?")
    return "%s.%s" % (module, qualname)


def _type_label(value):
    t = type(value)
    if t.__module__ == "builtins":
        return t.__qualname__
    return _type_name(t)


def _loaded_attr(module, attr):
    """module.attr if module is already imported, else None.

    An instance of a class can only exist once its module is imported, so
    looking in sys.modules answers "is it one of those?" without importing.
    """
    mod = sys.modules.get(module)
    if mod is None:
        return None
    for part in attr.split("."):
        mod = getattr(mod, part, None)
        if mod is None:
            return None
    return mod


def _isinstance_loaded(value, module, attr):
    cls = _loaded_attr(module, attr)
    return cls is not None and isinstance(cls, type) and isinstance(value, cls)


def _lock_types():
    import _thread
    return (_thread.LockType, type(_thread.RLock()))


# How many elements of plain containers _unsavable_reason looks at, at
# most: enough for any structure of settings or results, bounded for a list
# of a million numbers.
_WALK_LIMIT = 10000


def _unsavable_reason(value):
    """Why value can never be passed between steps, or None.

    Looks into plain containers (lists, tuples, sets, dicts) too, up to
    _WALK_LIMIT elements: a generator kept in a dict fails the save just as
    one on its own does, and the reason then says where it is.
    """
    reason = _unsavable_own(value)
    if reason or not isinstance(value, (list, tuple, set, frozenset, dict)):
        return reason
    budget = _WALK_LIMIT
    seen = {id(value)}
    stack = [(value, "")]
    while stack:
        container, where = stack.pop()
        if isinstance(container, dict):
            children = []
            for k, v in container.items():
                children.append((k, "%s (a key)" % where))
                children.append((v, "%s[%r]" % (where, k)))
        elif isinstance(container, (set, frozenset)):
            children = [(v, "%s (an element of a set)" % where) for v in container]
        else:
            children = [(v, "%s[%d]" % (where, i)) for i, v in enumerate(container)]
        for child, path in children:
            budget -= 1
            if budget < 0:
                return None
            reason = _unsavable_own(child)
            if reason:
                return "it holds a %s at %s: %s" % (_type_label(child), path.strip(), reason)
            if isinstance(child, (list, tuple, set, frozenset, dict)) and id(child) not in seen:
                seen.add(id(child))
                stack.append((child, path))
    return None


def _unsavable_own(value):
    """Why value itself, not looking inside it, can never be saved, or None."""
    if isinstance(value, types.GeneratorType):
        return "generators cannot be pickled; recompute it in the step that uses it"
    if isinstance(value, (types.CoroutineType, types.AsyncGeneratorType)):
        return "coroutines cannot be pickled; recompute it in the step that uses it"
    if isinstance(value, types.ModuleType):
        return "modules are not data; import it in the step that uses it"
    if isinstance(value, (types.FrameType, types.TracebackType)):
        return "frames and tracebacks cannot be pickled"
    if isinstance(value, io.IOBase) and not isinstance(value, (io.BytesIO, io.StringIO)):
        return "open files cannot be passed between steps; pass the path and open it in the step that uses it"
    if isinstance(value, _lock_types()):
        return "locks cannot be passed between steps; create it in the step that uses it"
    if _isinstance_loaded(value, "socket", "socket"):
        return "sockets cannot be passed between steps; connect in the step that uses it"
    if (_isinstance_loaded(value, "xgboost", "QuantileDMatrix")
            or _isinstance_loaded(value, "xgboost", "DeviceQuantileDMatrix")):
        # Its data is quantized when it is built: no format gives the input
        # back, and a DMatrix saved from the bins would train differently.
        return ("a QuantileDMatrix keeps only quantized data, which cannot be saved; pass the data it was built "
                "from and build it in the step that uses it")
    return None


def _from_main(obj):
    return getattr(obj, "__module__", None) == "__main__"


class _NeedsDill(Exception):
    """Raised while pickling: something defined in the notebook is in the value."""

    def __init__(self, obj):
        Exception.__init__(self, getattr(obj, "__qualname__", repr(obj)))


class _NoDill(Exception):
    """dill is needed for a value but cannot be imported."""


def _main_attr(name):
    """Unpickling helper: a class or function of the loading step's notebook.

    Classes and functions from `imports`/`functions` cells are replayed in
    every step, so they are stored by name and resolved in the loader; an
    instance then belongs to the loader's own class.
    """
    main = sys.modules.get("__main__")
    try:
        return getattr(main, name)
    except AttributeError:
        raise MarshalError("%r is not defined in this step, but a loaded value needs it; it comes from an "
                           "imports/functions cell that this step did not run" % name) from None


class _Context:
    """What a save needs to know about the step: which names are shared, and
    (sharing) where to report the objects each value reaches."""

    def __init__(self, shared_names=(), namespace=None, sharing=None):
        self.shared_names = frozenset(shared_names)
        self.namespace = namespace
        self.sharing = sharing

    def pickled(self, pickler):
        """A pickler has dumped the value being saved: note what it reached."""
        if self.sharing is not None:
            self.sharing.reached_memo(pickler.memo)

    def reached(self, obj):
        if self.sharing is not None:
            self.sharing.reached(obj)

    def shared(self, obj):
        """True for a class or function that every step defines under its name."""
        name = getattr(obj, "__qualname__", None)
        if not name or name not in self.shared_names or self.namespace is None:
            return False
        return self.namespace.get(name) is obj

    def needs_dill(self, obj):
        return isinstance(obj, (type, types.FunctionType)) and _from_main(obj) and not self.shared(obj)


def _detecting_pickler(base, ctx, note="memo"):
    """A pickler class that finds notebook definitions and, for a save that
    looks for shared objects (ctx.sharing), notes what the value reaches
    (see _Sharing) without changing what is written.

    note says how. "memo": from the pickler's memo, which holds every object
    pickled, once the dump is done; the pure-Python picklers (joblib's,
    dill's) keep it in a dict, and torch sets a persistent_id of its own.
    Copying the C pickler's memo costs about a microsecond per entry, so
    plain pickle notes as it goes instead. "each": a persistent_id hook that
    returns None, called for every object (about 0.1 us each). "objects":
    reducer_override, which is called anyway, for every object but the
    builtin ones (str, int, list, dict, ...): for frames and arrays, whose
    object columns can hold millions of strings; lists or dicts held in
    their cells are then not noted.
    """
    sharing = ctx.sharing
    reached = sharing.reached if sharing is not None else None
    objects = note == "objects" and sharing is not None

    class Pickler(base):
        # Plain pickle stores classes and functions by reference to their
        # module; for __main__ that reference dangles in the next step.
        def reducer_override(self, obj):
            if ctx.needs_dill(obj):
                raise _NeedsDill(obj)
            if objects:
                reached(obj)
            return NotImplemented

        def dump(self, obj):
            base.dump(self, obj)
            if note == "memo":
                ctx.pickled(self)

    if note != "each" or sharing is None:
        return Pickler

    class Noting(Pickler):
        def persistent_id(self, obj, kinds=_Sharing.kinds):
            if kinds.get(type(obj)) is not False:
                reached(obj)
            return None  # pickled as usual
    return Noting


# ---------------------------------------------------------------------------
# Values that share objects

# In the kernel, `combine = [train_df, test_df]` holds the very frames bound
# to train_df and test_df, and `for d in combine: d["Title"] = ...` changes
# them. Values saved one per file each get their own copy of what they
# share, so in a step that loads all three combine's frames would no longer
# be train_df and test_df. Step.save therefore notes, per value, the mutable
# objects it reaches (_Sharing); values that reach a common one are saved
# together as one pickle of {name: value} -- pickle's memo writes each
# object once -- and Step.load unpickles that file once for all the names it
# loads from it.

# Exact types that never count: immutable, or stored by reference (a class,
# a function, a module), so every loader resolves them to one object anyway.
_NOT_IDENTITY_TYPES = frozenset([
    str, bytes, int, float, complex, bool, type(None), tuple, frozenset, range, slice, type(Ellipsis),
    type, types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.ModuleType, types.CodeType,
    types.MethodWrapperType, types.WrapperDescriptorType, types.MethodDescriptorType,
    types.ClassMethodDescriptorType, types.GetSetDescriptorType, types.MemberDescriptorType,
    types.MappingProxyType, property, staticmethod, classmethod,
])
_NOT_IDENTITY = (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.ModuleType)
# Compiled functions of extension modules (pickled by reference, like a def).
_FUNCTION_LIKE = frozenset(["cython_function_or_method", "fused_cython_function", "_ArrayFunctionDispatcher",
                            "ufunc"])


def _identity_kind(t):
    """Whether two values that reach an object of type t must still reach one
    object once loaded: True, False, or _INDEX for a pandas Index.

    Mutable data: containers, arrays, frames, objects with a __dict__. Not
    immutable values (sharing them cannot be observed), nor what pickle stores
    by reference (classes, functions, modules, enum members), nor pandas
    Index objects: pandas treats them as immutable and shares one between
    every frame and series derived from another (X, y = df.drop(...), df.y),
    so counting them would tie together nearly every pair of frames
    (_Sharing leaves out what they hold, too). The answer depends on the
    type alone and is kept per type: a type's module is imported by the
    time an instance is met.
    """
    kinds = _Sharing.kinds
    kind = kinds.get(t)
    if kind is not None:
        return kind
    if t in _NOT_IDENTITY_TYPES or issubclass(t, _NOT_IDENTITY):
        kind = False
    elif issubclass(t, (list, dict, set, bytearray)):
        kind = True
    elif _loaded_attr("numpy", "ndarray") is not None and issubclass(t, _loaded_attr("numpy", "ndarray")):
        kind = True
    elif not t.__dictoffset__ or t.__name__ in _FUNCTION_LIKE:
        kind = False  # no __dict__: C objects and scalars (dtypes, dates, compiled patterns)
    elif _loaded_attr("enum", "Enum") is not None and issubclass(t, _loaded_attr("enum", "Enum")):
        kind = False
    elif _loaded_attr("pandas", "Index") is not None and issubclass(t, _loaded_attr("pandas", "Index")):
        kind = _INDEX
    else:
        kind = True
    kinds[t] = kind
    return kind


_INDEX = 2  # compared with ==: dill, loading a value that holds this module, may replace its globals by copies


def _identity_relevant(obj):
    return _identity_kind(type(obj)) is True


class _Sharing:
    """Which of the values one save writes reach a common mutable object.

    Pickled values report what they reach as they are pickled, or from their
    pickler's memo after the dump (see _detecting_pickler); either way the
    output is unchanged. Values in other formats (npy, parquet, ...) count
    as the one object they are.
    The objects are kept referenced until the save ends, so an id cannot
    be reused meanwhile by another object and tie unrelated values.

    Some objects reached by several values tie nothing. A module's globals
    (dill's memo holds them) and a class's own attributes, which an
    instance's state may name (every DataFrame's state holds
    NDFrame._metadata, the same list), are one object per process anyway.
    What a pandas Index holds is as immutable as the Index (see
    _identity_relevant), yet reached without it: sklearn's
    feature_names_in_ is the very array of X.columns.
    """

    # _identity_kind's answers, by type. A class attribute, not a global:
    # dill pickles this module's globals along with a function whose
    # namespace is a plain dict holding _di (as in this module's tests),
    # and numpy's dtype classes, among the keys, refuse pickling.
    kinds = dict.fromkeys(_NOT_IDENTITY_TYPES, False)
    kinds.update(dict.fromkeys([list, dict, set, bytearray], True))

    def __init__(self, exclude=()):
        self._seen = {}  # id -> the first value that reached it, as an index into _names
        self._keep = []  # the objects of _seen: no id may be reused while the save runs
        self._ties = {}  # name -> [(earlier name, object both reach)], judged once every type is known
        self._names = []
        self._exclude = {id(x) for x in exclude}
        self._module_dicts = None
        self._types = set()  # types of the objects reached, for their class attributes
        self._types_done = set()
        self._class_attrs = set()
        self._index_parts = {}  # id -> an object a pandas Index holds
        self.current = None

    def begin(self, name):
        self.current = name
        self._names.append(name)

    def reached(self, obj):
        """Note an object the current value reaches (called per object pickled: keep it short)."""
        t = type(obj)
        kind = _Sharing.kinds.get(t)
        if kind is False or self.current is None:
            return
        if kind is None:
            kind = _identity_kind(t)
        if kind is True:
            self._types.add(t)
            self._note(obj)
        elif kind == _INDEX:
            self._index_held(obj)

    def reached_memo(self, memo):
        entries = memo.values() if isinstance(memo, dict) else memo.copy().values()
        reached = self.reached
        for _, obj in entries:
            reached(obj)

    def _index_held(self, index):
        for v in list(getattr(index, "__dict__", {}).values()):
            self._index_parts[id(v)] = v
            if isinstance(v, (list, tuple)):  # a MultiIndex's codes and levels
                for item in v:
                    self._index_parts[id(item)] = item

    def _note(self, obj):
        i = id(obj)
        if i in self._exclude:
            return
        current = len(self._names) - 1
        prev = self._seen.get(i)
        if prev is None:
            self._seen[i] = current
            self._keep.append(obj)
        elif prev != current:
            self._ties.setdefault(self._names[current], []).append((self._names[prev], obj))

    def _tie(self, obj):
        return id(obj) not in self._index_parts and not self._module_dict(obj) and not self._class_attr(obj)

    def _module_dict(self, obj):
        # dill stores a module's globals by reference, but they are in its memo.
        if type(obj) is not dict:
            return False
        if self._module_dicts is None:
            self._module_dicts = set()
            for m in list(sys.modules.values()):
                try:  # not getattr: that would import a module that is loaded lazily
                    self._module_dicts.add(id(object.__getattribute__(m, "__dict__")))
                except Exception:
                    pass
        return id(obj) in self._module_dicts

    def _class_attr(self, obj):
        for t in self._types - self._types_done:
            self._types_done.add(t)
            for k in getattr(t, "__mro__", ()):
                for v in list(getattr(k, "__dict__", {}).values()):
                    if _identity_relevant(v):
                        self._class_attrs.add(id(v))
        return id(obj) in self._class_attrs

    def joined(self, name):
        """Whether name shares an object with a value noted before it."""
        return any(self._tie(obj) for _, obj in self._ties.get(name, ()))

    def groups(self):
        """The names of values that share objects, one sorted list per group of two or more."""
        parent = {n: n for n in self._names}

        def find(n):
            while parent[n] != n:
                parent[n] = parent[parent[n]]
                n = parent[n]
            return n

        for b, ties in self._ties.items():
            for a, obj in ties:
                ra, rb = find(a), find(b)
                if ra != rb and self._tie(obj):
                    parent[max(ra, rb)] = min(ra, rb)
        by_root = {}
        for n in self._names:
            by_root.setdefault(find(n), []).append(n)
        return sorted(sorted(g) for g in by_root.values() if len(g) > 1)


_GROUP_PREFIX = "group-"


def _group_file_stem(names):
    # Not an identifier, so never the stem of a value's own file.
    return _GROUP_PREFIX + min(names)


# ---------------------------------------------------------------------------
# Formats

def _import_for(module, what, name=None, purpose="save"):
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError as e:
        target = ("%r" % name) if name else "a value"
        raise MarshalError("cannot %s %s (%s): %s is needed but not importable here (%s)"
                           % (purpose, target, what, module, e)) from None


def _save_npy(f, arr, ctx):
    np = sys.modules["numpy"]
    fmt = np.lib.format
    header = fmt.header_data_from_array_1_0(arr)
    try:
        fmt.write_array_header_1_0(f, header)
    except ValueError:  # header over 64 KiB (huge structured dtypes)
        fmt.write_array_header_2_0(f, header)
    if arr.size == 0:
        return
    if arr.flags.c_contiguous:
        data = arr
    elif arr.flags.f_contiguous:
        data = arr.T  # the header says fortran_order, so the bytes go in that order
    else:
        rows = max(1, _CHUNK // max(1, arr[0].nbytes))
        for start in range(0, arr.shape[0], rows):
            block = np.ascontiguousarray(arr[start:start + rows])
            f.write(block.reshape(-1).view(np.uint8))
        return
    # No copy: the array's own memory goes to the file and to the hash.
    f.write_owned(data.reshape(-1).view(np.uint8))


def _load_npy(path, entry):
    np = _import_for("numpy", entry.get("type", "array"), entry.get("name"), "load")
    # Copy-on-write mapping: the loading step may change the array in place
    # without touching the producer's file, and pays only for pages it reads.
    m = np.load(path, mmap_mode="c", allow_pickle=False)
    return m.view(np.ndarray)


def _save_pickle(f, value, ctx):
    data = (_isinstance_loaded(value, "pandas", "DataFrame") or _isinstance_loaded(value, "pandas", "Series")
            or _isinstance_loaded(value, "numpy", "ndarray"))
    _detecting_pickler(pickle.Pickler, ctx, "objects" if data else "each")(f, protocol=5).dump(value)


def _load_pickle(path, entry):
    with open(path, "rb") as f:
        return pickle.load(f)


def _save_dill(f, value, ctx):
    try:
        import dill
    except ImportError:
        raise _NoDill() from None

    class Pickler(dill.Pickler):
        def reducer_override(self, obj):
            if ctx.shared(obj):
                return (_main_attr, (obj.__qualname__,))
            return NotImplemented

        def dump(self, obj):
            dill.Pickler.dump(self, obj)
            ctx.pickled(self)

    Pickler(f, protocol=pickle.HIGHEST_PROTOCOL).dump(value)


def _load_dill(path, entry):
    dill = _import_for("dill", entry.get("type", "value"), entry.get("name"), "load")
    unpickler = _dill_unpickler(dill)
    exclude = {}
    while True:
        with open(path, "rb") as f:
            u = unpickler(f, exclude)
            value = u.load()
        wrong = u.mismatched()
        if not wrong:
            break
        # A class taken for one the step has was not the same once its
        # closures were filled in: load again, without that choice.
        del value
        for k, token in wrong:
            exclude.setdefault(k, set()).add(token)
    u.keep_classes()
    return value


# ---------------------------------------------------------------------------
# One identity per notebook class in a step
#
# dill pickles a class defined in the notebook (__main__) by value, once per
# value that carries it: a step that loads Item (from the step defining it)
# and wh = Warehouse([Item(...)]) (from a later step) would get two Item
# classes, and isinstance(wh.items[0], Item) would be False, where Jupyter
# has one class. So every notebook class that dill recreates in this process
# (a step runs in a process of its own) goes through _MainClasses.find: a
# class of the same name and the same definition (_same_class_def) as one the
# step already has is that class, not a new one, whatever order the values
# load in; the class the name is bound to is that object too, since binding
# Item loads it the same way. The step "has" the classes its loads created
# first, and the class bound in __main__ under that name, if it is the same
# definition (a cell the step ran itself).
#
# A definition is what a class statement makes: the metaclass, name,
# qualified name, bases, docstring, annotations, __slots__ and the methods,
# properties, class/static methods and nested classes, compared by their
# code, defaults, closures and attributes. A notebook that redefines a class
# differently keeps two classes, as Jupyter keeps old instances on the old
# class. Class attributes that hold data (Warehouse.restocks = 0) are not
# part of it: steps change them (Warehouse.restocks += 1), so the values
# carrying a class may disagree about them; the class the step created
# first wins, with its attribute values, and the other copies' values are
# dropped (a data attribute shared with instances, e.g. a list every
# instance holds, is then no longer the class's own). Only a redefinition
# that changes nothing but data attributes is taken for the same class.
#
# dill fills a class's closure cells after it creates the class, so the
# choice made when the class is created compares everything but cells; once
# the value is loaded the choice is checked with them, and the value loaded
# again without a choice that was wrong (_load_dill).

_CLASS_DEF_SKIP = frozenset(("__dict__", "__weakref__", "__prepare__", "__qualname__"))
_CLASS_DEF_KEEP = frozenset(("__module__", "__doc__", "__slots__", "__annotations__", "__match_args__"))
_SCALARS = (type(None), bool, int, float, complex, str, bytes, range, slice, type(Ellipsis), type(NotImplemented))


class _MainClasses:
    """The notebook classes this process has, by __name__ (see above)."""

    by_name = {}

    @classmethod
    def find(cls, metatype, name, bases, namespace, also=(), exclude=()):
        """The class the step has that a class dill is about to create
        (metatype(name, bases, namespace)) is, as (token, class), or None.

        also: (token, class) for the classes the value being loaded has
        created so far; a class is known by id(class) otherwise. exclude:
        tokens of the classes not to take.
        """
        candidates = [(id(c), c) for c in cls.by_name.get(name, ())]
        bound = getattr(sys.modules.get("__main__"), name, None)
        if isinstance(bound, type) and _from_main(bound) and getattr(bound, "__qualname__", None) == name:
            candidates.append((id(bound), bound))
        candidates += [(t, c) for t, c in also if c.__name__ == name]
        seen = set()
        for token, have in candidates:
            if id(have) in seen or token in exclude:
                continue
            seen.add(id(have))
            if _same_class_def((metatype, name, None, bases, namespace), _class_def(have), {}, cells=False):
                return token, have
        return None

    @classmethod
    def keep(cls, klass):
        have = cls.by_name.setdefault(klass.__name__, [])
        if not any(k is klass for k in have):
            have.append(klass)


def _main_class_args(args):
    """args to dill's _create_type, less the metaclass, for a notebook class."""
    return (len(args) == 3 and isinstance(args[0], str) and isinstance(args[1], tuple)
            and isinstance(args[2], dict) and args[2].get("__module__") == "__main__")


def _class_def(klass):
    return (type(klass), klass.__name__, klass.__qualname__, klass.__bases__, dict(klass.__dict__))


def _definition_items(namespace):
    slots = namespace.get("__slots__", ())
    if isinstance(slots, str):
        slots = (slots,)
    out = {}
    for k, v in namespace.items():
        if k in _CLASS_DEF_SKIP or (isinstance(slots, (tuple, list)) and k in slots):
            continue
        if k in _CLASS_DEF_KEEP or _defines_code(v):
            out[k] = v
    return out


def _defines_code(v):
    if isinstance(v, (types.FunctionType, classmethod, staticmethod, property, type)):
        return True
    # Other descriptors (functools.cached_property, partialmethod, ...), not
    # the ones type() makes for __slots__.
    return (hasattr(type(v), "__get__")
            and not isinstance(v, (types.GetSetDescriptorType, types.MemberDescriptorType)))


def _same_class_def(a, b, seen, cells=True):
    """Whether two (metaclass, name, qualname, bases, namespace) define the
    same class; a qualname None is not known yet and not compared."""
    (ma, na, qa, ba, da), (mb, nb, qb, bb, db) = a, b
    if na != nb or (qa is not None and qb is not None and qa != qb):
        return False
    if not (_same_value(ma, mb, seen, cells) and _same_value(tuple(ba), tuple(bb), seen, cells)):
        return False
    da, db = _definition_items(da), _definition_items(db)
    if da.keys() != db.keys():
        return False
    return all(_same_value(da[k], db[k], seen, cells) for k in da)


def _same_value(a, b, seen, cells=True):
    """Structural equality for what a class definition holds; False when unsure.

    seen maps pairs being compared to themselves: a cycle (a method whose
    closure holds its class) compares equal.
    """
    if a is b:
        return True
    t = type(a)
    if t is not type(b):
        return False
    if t in _SCALARS:
        if t is float and a != a:
            return b != b  # nan
        return a == b
    key = (id(a), id(b))
    if key in seen:
        return True
    seen[key] = (a, b)  # keeps both alive while ids are compared
    if t is types.CodeType:
        return a == b
    if t is types.FunctionType:
        return (a.__code__ == b.__code__ and a.__name__ == b.__name__ and a.__qualname__ == b.__qualname__
                and a.__module__ == b.__module__
                and _same_value(a.__defaults__, b.__defaults__, seen, cells)
                and _same_value(a.__kwdefaults__, b.__kwdefaults__, seen, cells)
                and _same_value(a.__closure__, b.__closure__, seen, cells)
                and _same_value(a.__dict__, b.__dict__, seen, cells)
                and _same_value(a.__annotations__, b.__annotations__, seen, cells))
    if t is types.CellType:
        if not cells:
            return True  # dill has not filled it in yet
        try:
            ca = a.cell_contents
        except ValueError:
            ca = _same_value
        try:
            cb = b.cell_contents
        except ValueError:
            cb = _same_value
        return _same_value(ca, cb, seen, cells)
    if t in (tuple, list):
        return len(a) == len(b) and all(_same_value(x, y, seen, cells) for x, y in zip(a, b))
    if t is dict:
        return a.keys() == b.keys() and all(_same_value(a[k], b[k], seen, cells) for k in a)
    if t in (classmethod, staticmethod):
        return _same_value(a.__func__, b.__func__, seen, cells)
    if t is property:
        return all(_same_value(getattr(a, n), getattr(b, n), seen, cells) for n in ("fget", "fset", "fdel", "__doc__"))
    if t is types.MethodType:
        return _same_value(a.__func__, b.__func__, seen, cells) and _same_value(a.__self__, b.__self__, seen, cells)
    if isinstance(a, type):
        # Two copies of one notebook class (or two classes, one a copy of the other).
        return (_from_main(a) and _from_main(b)
                and _same_class_def(_class_def(a), _class_def(b), seen, cells))
    if isinstance(a, (types.ModuleType, types.BuiltinFunctionType)):
        return False  # not the same object
    if t.__eq__ is not object.__eq__:
        try:
            return bool(a == b)
        except Exception:
            return False
    if isinstance(a, _lock_types()):
        return True
    state_a, state_b = _object_state(a), _object_state(b)
    if state_a is None or state_b is None:
        return False
    return _same_value(state_a, state_b, seen, cells)


def _object_state(obj):
    """An instance's attributes (__dict__ and __slots__), or None if it has neither."""
    state = {}
    d = getattr(obj, "__dict__", None)
    if isinstance(d, dict):
        state.update(d)
    elif d is not None:
        return None
    slotted = False
    for klass in type(obj).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        for s in slots:
            if s in ("__dict__", "__weakref__"):
                continue
            slotted = True
            state["slot " + s] = getattr(obj, s, _object_state)
    if d is None and not slotted:
        return None
    return state


_DILL_UNPICKLER = None


def _dill_unpickler(dill):
    """dill's Unpickler, with notebook classes given one identity per step (see _MainClasses)."""
    global _DILL_UNPICKLER
    if _DILL_UNPICKLER is not None:
        return _DILL_UNPICKLER
    create_type = dill._dill._create_type
    setattrs = tuple({id(setattr): setattr, id(getattr(dill._dill, "_setattr", setattr)):
                      getattr(dill._dill, "_setattr", setattr)}.values())

    class Unpickler(dill.Unpickler):
        def __init__(self, file, exclude=None):
            # ignore: dill would move the loaded value itself onto whatever
            # class __main__ binds under its class's name, same or not.
            dill.Unpickler.__init__(self, file, ignore=True)
            self._exclude = exclude or {}
            self._made = []  # per notebook class created: (metatype, args, class, token of the class reused or None)
            self._reused = {}  # id(class) -> its index in _made, for the classes reused
            self._wrong = set()  # indexes in _made whose reuse was wrong

        def find_class(self, module, name):
            obj = dill.Unpickler.find_class(self, module, name)
            if obj is create_type:
                return self._create_type
            if any(obj is s for s in setattrs):
                return self._setattr
            return obj

        def _create_type(self, metatype, *args):
            if not _main_class_args(args):
                return create_type(metatype, *args)
            k = len(self._made)
            name, bases, namespace = args
            # Made earlier in this value: known by index, since loading
            # again makes a new one.
            fresh = [(("made", j), c) for j, (_, _, c, token) in enumerate(self._made) if token is None]
            found = _MainClasses.find(metatype, name, bases, namespace, fresh, self._exclude.get(k, ()))
            if found is not None:
                token, have = found
                self._reused.setdefault(id(have), k)
                self._made.append((metatype, args, have, token))
                return have
            klass = create_type(metatype, *args)
            self._made.append((metatype, args, klass, None))
            return klass

        def _setattr(self, obj, name, value):
            k = self._reused.get(id(obj))
            if k is None or not isinstance(obj, type):
                return setattr(obj, name, value)
            # The class the step had keeps its attributes (dill sets
            # __qualname__ after creating a nested class): one that does not
            # match tells the choice was wrong.
            if name == "__qualname__" and obj.__qualname__ != value:
                self._wrong.add(k)
            return None

        def mismatched(self):
            """(index, token) for each class reused in place of one that, complete, differs from it."""
            out = []
            for k, (metatype, args, klass, token) in enumerate(self._made):
                if token is None:
                    continue
                name, bases, namespace = args
                if k in self._wrong or not _same_class_def((metatype, name, None, bases, namespace),
                                                           _class_def(klass), {}):
                    out.append((k, token))
            return out

        def keep_classes(self):
            # New classes, and one taken from __main__: the step has it even
            # once __main__ binds its name to something else.
            for (_, _, klass, _) in self._made:
                _MainClasses.keep(klass)

    _DILL_UNPICKLER = Unpickler
    return Unpickler


def _save_torch(f, value, ctx):
    torch = sys.modules["torch"]
    mod = types.ModuleType("datainsight_torch_pickle")
    mod.Pickler = _detecting_pickler(pickle.Pickler, ctx)
    mod.Unpickler = pickle.Unpickler
    mod.dump, mod.load, mod.loads = pickle.dump, pickle.load, pickle.loads
    torch.save(value, f, pickle_module=mod)


def _load_torch(path, entry):
    torch = _import_for("torch", entry.get("type", "value"), entry.get("name"), "load")
    # A tensor saved on a GPU must still load in a CPU-only step.
    kwargs = {} if torch.cuda.is_available() else {"map_location": "cpu"}
    with open(path, "rb") as f:
        return torch.load(f, **kwargs)


def _save_joblib(f, value, ctx):
    import joblib.numpy_pickle as jnp
    base = _detecting_pickler(jnp.NumpyPickler, ctx)

    class Pickler(base):
        # joblib writes arrays after a wrapper, outside the memo: they are
        # noted as they go by (this pickler is pure Python anyway).
        def save(self, obj, *args, **kwargs):
            if self.np is not None and type(obj) in (self.np.ndarray, self.np.matrix, self.np.memmap):
                ctx.reached(obj)
            return base.save(self, obj, *args, **kwargs)

    # joblib.dump(value, fileobj) is exactly this, minus the hook that finds
    # notebook-defined classes inside the estimator.
    Pickler(f, protocol=pickle.HIGHEST_PROTOCOL).dump(value)


def _load_joblib(path, entry):
    joblib = _import_for("joblib", entry.get("type", "value"), entry.get("name"), "load")
    return joblib.load(path)


def _save_parquet_path(tmp, value, entry):
    if entry.get("series"):
        value = value.to_frame(name="__series__")
    value.to_parquet(tmp)


def _load_parquet(path, entry):
    pd = _import_for("pandas", entry.get("type", "value"), entry.get("name"), "load")
    df = pd.read_parquet(path)
    if entry.get("series"):
        return df["__series__"].rename(entry.get("series_name"))
    return df


def _save_xgboost_path(tmp, value, entry):
    value.save_model(tmp)


def _resolve_type(qualified):
    import importlib
    module, _, qualname = qualified.rpartition(".")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _load_xgboost(path, entry):
    xgb = _import_for("xgboost", entry.get("type", "value"), entry.get("name"), "load")
    if entry.get("type") == "xgboost.core.Booster":
        return xgb.Booster(model_file=path)
    model = _resolve_type(entry["type"])()
    model.load_model(path)
    return model


def _save_dmatrix_path(tmp, value, entry):
    # xgboost's own binary format keeps what get_data() and the info
    # getters would lose or reshape: feature names and types (categorical
    # included), groups, survival bounds, multi-output labels.
    value.save_binary(tmp, silent=True)


def _load_dmatrix(path, entry):
    xgb = _import_for("xgboost", entry.get("type", "value"), entry.get("name"), "load")
    if "#" not in path and "?" not in path:
        return xgb.DMatrix(path, silent=True)
    # xgboost reads the name it loads as a URI: "#" starts a cache prefix
    # and "?" arguments, so such a path is read through a plain-named link.
    import shutil
    import tempfile
    tmp = tempfile.mkdtemp(prefix="datainsight-dmatrix-")
    try:
        link = os.path.join(tmp, "value.dmatrix")
        if "#" in link or "?" in link:
            raise MarshalError("cannot load %r: xgboost reads '#' and '?' in a file name as URI syntax, and both "
                               "%s and the temporary folder %s contain one" % (entry.get("name"), path, tmp))
        os.symlink(path, link)
        # The matrix is read whole here: the link may go right after.
        return xgb.DMatrix(link, silent=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _save_torchscript(f, value, ctx):
    # torch.save pickles, and a scripted module refuses pickling ("does not
    # have a __getstate__ method defined"); TorchScript has its own archive.
    sys.modules["torch"].jit.save(value, f)


def _load_torchscript(path, entry):
    torch = _import_for("torch", entry.get("type", "value"), entry.get("name"), "load")
    return torch.jit.load(path, map_location=None if torch.cuda.is_available() else "cpu")


def _save_keras_path(tmp, value, entry):
    value.save(tmp)


def _load_keras(path, entry):
    keras = _import_for(entry.get("keras_module", "keras"), entry.get("type", "value"), entry.get("name"), "load")
    return keras.models.load_model(path)


_LOADERS = {
    "npy": _load_npy,
    "parquet": _load_parquet,
    "pickle": _load_pickle,
    "dill": _load_dill,
    "torch": _load_torch,
    "joblib": _load_joblib,
    "xgboost": _load_xgboost,
    "dmatrix": _load_dmatrix,
    "torchscript": _load_torchscript,
    "keras": _load_keras,
}


def _keras_module(value):
    for module in ("keras", "tf_keras"):
        if _isinstance_loaded(value, module, "Model"):
            return module
    return None


def _native_format(value, ctx):
    """The first choice of format for value, by its type."""
    t = type(value)
    np = sys.modules.get("numpy")
    if np is not None and (t is np.ndarray or t is np.memmap) and not value.dtype.hasobject:
        return "npy"
    pd = sys.modules.get("pandas")
    if pd is not None and t in (pd.DataFrame, pd.Series):
        return "parquet"
    if _isinstance_loaded(value, "torch", "jit.ScriptModule"):
        return "torchscript"
    if _isinstance_loaded(value, "torch", "Tensor") or _isinstance_loaded(value, "torch", "nn.Module"):
        return "torch"
    if _isinstance_loaded(value, "xgboost", "Booster") or _isinstance_loaded(value, "xgboost", "XGBModel"):
        return "xgboost"
    if _isinstance_loaded(value, "xgboost", "DMatrix"):
        return "dmatrix"
    if _keras_module(value):
        return "keras"
    if _isinstance_loaded(value, "sklearn.base", "BaseEstimator"):
        return "joblib"
    return "pickle"


def _parquet_usable(value):
    pd = sys.modules["pandas"]
    if isinstance(value, pd.Series):
        return value.name is None or isinstance(value.name, (str, int, float, bool))
    return all(isinstance(c, str) for c in value.columns)


def _try_import(module):
    import importlib
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        return False


def save_value(directory, name, value, cell=None, context=None, sync_dir=True, first_format=None):
    """Save value as directory/<name>.<ext>; returns its manifest entry.

    Raises MarshalError naming the value, its type, the cell that defined it
    and the reason when it cannot be saved. With sync_dir=False the caller
    must fsync directory before it relies on the rename (Step.save does,
    once, before writing the manifest). first_format, a pickling format,
    replaces the choice by type (save_group's).
    """
    ctx = context or _Context()
    label = _type_label(value)
    where = "%s, defined in cell %s" % (label, cell) if cell is not None else label

    def fail(reason):
        return MarshalError("cannot save %r (%s): %s" % (name, where, reason))

    reason = _unsavable_reason(value)
    if reason:
        raise fail(reason)

    entry = {"name": name, "type": _type_name(type(value)), "cell": cell}
    if first_format is not None:
        fmt = first_format
    elif ctx.needs_dill(value) or ctx.needs_dill(type(value)):
        fmt = "dill"
    else:
        fmt = _native_format(value, ctx)
        if fmt == "parquet":
            if isinstance(value, sys.modules["pandas"].Series):
                entry["series"] = True
                entry["series_name"] = value.name
            if not (_parquet_usable(value) and _try_import("pyarrow")):
                fmt = "pickle"
                entry.pop("series", None)
                entry.pop("series_name", None)
        if fmt == "keras":
            entry["keras_module"] = _keras_module(value)

    writers = {
        "npy": _save_npy, "pickle": _save_pickle, "dill": _save_dill,
        "torch": _save_torch, "joblib": _save_joblib, "torchscript": _save_torchscript,
    }
    path_writers = {"parquet": _save_parquet_path, "xgboost": _save_xgboost_path, "keras": _save_keras_path,
                    "dmatrix": _save_dmatrix_path}

    while True:
        path = os.path.join(directory, name + _EXT[fmt])
        try:
            if fmt in path_writers:
                tmp = os.path.join(directory, "%s%d-%s-%s" % (TMP_PREFIX, os.getpid(), os.urandom(4).hex(),
                                                              os.path.basename(path)))
                try:
                    path_writers[fmt](tmp, value, entry)
                    size, checksum = _commit_path(tmp, path, sync_dir)
                except BaseException:
                    try:
                        os.unlink(tmp)
                    except OSError:
                        pass
                    raise
            else:
                f = _AtomicFile(path)
                try:
                    writers[fmt](f, value, ctx)
                except BaseException:
                    f.abort()
                    raise
                size, checksum = f.commit(sync_dir)
        except _NeedsDill as e:
            if fmt == "dill":  # cannot happen: dill's pickler has no detector
                raise
            if not _try_import("dill"):
                raise fail("it contains %s, defined in the notebook; passing notebook-defined functions, "
                           "classes and their instances between steps needs dill, which is not importable "
                           "here (install python3-dill or pip install dill)" % e) from None
            fmt = "dill"
            continue
        except _NoDill:
            raise fail("functions, classes and instances of classes defined in the notebook are passed "
                       "between steps with dill, which is not importable here (install python3-dill or "
                       "pip install dill)") from None
        except MarshalError:
            raise
        except (MemoryError, KeyboardInterrupt):
            raise
        except Exception as e:
            if fmt in path_writers:
                # The library's own format refused this value (an unfitted
                # model, a column pyarrow cannot type): pickle still may not.
                entry.pop("series", None)
                entry.pop("series_name", None)
                entry.pop("keras_module", None)
                entry["fallback"] = "%s refused it: %s" % (fmt, _one_line(e))
                fmt = "pickle"
                continue
            reason = "%s failed: %s: %s" % (fmt, type(e).__name__, _one_line(e))
            if entry.get("fallback"):
                # Pickle was the second choice: why the first refused is
                # what the user can act on.
                reason += " (%s)" % entry["fallback"]
            raise fail(reason) from e
        break
    entry.update({"format": fmt, "file": os.path.basename(path), "size": size, "checksum": checksum})
    return entry


def _one_line(e):
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def _pickling_rank(value, ctx):
    """Step.save's order: values that pickle as containers first, then models, then plain data (arrays, frames)."""
    if ctx.needs_dill(value) or ctx.needs_dill(type(value)):
        return 0
    fmt = _native_format(value, ctx)
    return {"pickle": 0, "torch": 1, "joblib": 1}.get(fmt, 2)


def save_group(directory, values, cells=None, context=None, formats=(), sync_dir=True):
    """Save values (name -> value) that share objects as one pickle stream.

    The file, group-<first name>.<ext>, holds the dict {name: value}: pickle
    writes an object the values share once, so they share it again when the
    file is loaded. formats are those the values would have had alone:
    torch or dill among them is kept (torch maps GPU tensors to the CPU on
    load; dill carries notebook definitions); anything else is pickled, and
    a notebook definition met on the way switches to dill. Returns each
    value's manifest entry, all naming the group's file, with "group" set.
    """
    cells = cells or {}
    names = sorted(values)
    stem = _group_file_stem(names)
    first = "torch" if "torch" in formats else "dill" if "dill" in formats else "pickle"
    ctx = context or _Context()
    ctx = _Context(ctx.shared_names, ctx.namespace)  # what the values reach is known already
    whole = save_value(directory, stem, {n: values[n] for n in names}, context=ctx, sync_dir=sync_dir,
                       first_format=first)
    entries = {}
    for n in names:
        entry = {"name": n, "type": _type_name(type(values[n])), "cell": cells.get(n), "group": stem}
        for k in ("format", "file", "size", "checksum"):
            entry[k] = whole[k]
        entries[n] = entry
    return entries


def read_manifest(directory):
    """The manifest of a producer directory; FileNotFoundError if none."""
    with open(os.path.join(directory, MANIFEST), "rb") as f:
        return json.load(f)


def load_value(directory, name, entry=None, verify=None):
    """Load the value `name` that the step owning directory saved."""
    if entry is None:
        entry = read_manifest(directory)["values"][name]
    if entry.get("group"):
        return load_group(directory, name, entry, verify)[name]
    return _load_file(directory, name, entry, verify)


def load_group(directory, name, entry, verify=None):
    """name -> value for every value of the group entry (name's) belongs to, from one unpickling."""
    members = _load_file(directory, name, entry, verify)
    if not isinstance(members, dict) or name not in members:
        raise MarshalError("cannot load %r: %s does not hold it, although the manifest says so"
                           % (name, os.path.join(directory, entry["file"])))
    return members


def _load_file(directory, name, entry, verify):
    path = os.path.join(directory, entry["file"])
    if not os.path.exists(path):
        # Artifacts mode: the value came as an input artifact of its own.
        linked = os.path.join(directory, name + ARTIFACT_EXT)
        if os.path.exists(linked):
            path = linked
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise MarshalError("cannot load %r: %s is missing although the manifest lists it" % (name, path)) from None
    if size != entry["size"]:
        raise MarshalError("cannot load %r: %s has %d bytes, the manifest says %d (the file was changed after "
                           "it was saved)" % (name, path, size, entry["size"]))
    if verify is None:
        verify = os.environ.get(ENV_VERIFY, "") not in ("", "0")
    if verify:
        verify_file(path, entry["checksum"])
    loader = _LOADERS.get(entry.get("format"))
    if loader is None:
        raise MarshalError("cannot load %r: unknown format %r in %s" % (name, entry.get("format"), directory))
    return loader(path, dict(entry, name=name))


def _link_artifacts(directory, values):
    """Give each value a second name, <name>.artifact (a hard link, else a copy).

    On Argo in artifacts mode every value is an output artifact of its own,
    and an artifact's path is fixed when the workflow is generated, while
    the value's file (its format, so its extension; a group's file) is
    chosen only when it is saved. The consumer's input artifact lands under
    the same name, and _load_file falls back to it.
    """
    for name, entry in values.items():
        src = os.path.join(directory, entry["file"])
        dst = os.path.join(directory, name + ARTIFACT_EXT)
        tmp = os.path.join(directory, TMP_PREFIX + name + ARTIFACT_EXT)
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        try:
            os.link(src, tmp)
        except OSError:
            import shutil
            shutil.copyfile(src, tmp)
        os.replace(tmp, dst)


def _write_manifest(directory, values, meta):
    doc = dict(meta)
    doc["version"] = MANIFEST_VERSION
    doc["values"] = values
    data = json.dumps(doc, indent=1, sort_keys=True, default=repr).encode()
    _write_file_atomic(os.path.join(directory, MANIFEST), data)


# ---------------------------------------------------------------------------
# Rich display (IPython's protocol, without IPython)

_REPR_METHODS = (
    ("text/html", "_repr_html_"),
    ("text/markdown", "_repr_markdown_"),
    ("text/latex", "_repr_latex_"),
    ("image/svg+xml", "_repr_svg_"),
    ("image/png", "_repr_png_"),
    ("image/jpeg", "_repr_jpeg_"),
    ("application/json", "_repr_json_"),
)


def _plain_text(obj):
    try:
        if type(obj) in (dict, list, tuple, set, frozenset):
            import pprint
            return pprint.pformat(obj, sort_dicts=False)
        return repr(obj)
    except Exception as e:
        return "<%s object: repr failed: %s>" % (_type_label(obj), _one_line(e))


def _mimebundle(obj):
    data = {}
    # A class has the methods unbound; objects that answer every attribute
    # (mocks, proxies) are caught by IPython's canary attribute.
    rich = not isinstance(obj, type) and not hasattr(obj, "_ipython_canary_method_should_not_exist_")
    if rich:
        method = getattr(obj, "_repr_mimebundle_", None)
        if callable(method):
            try:
                got = method(include=None, exclude=None)
                if isinstance(got, tuple):
                    got = got[0]
                if isinstance(got, dict):
                    data.update(got)
            except Exception:
                pass
        for mime, attr in _REPR_METHODS:
            if mime in data:
                continue
            method = getattr(obj, attr, None)
            if not callable(method):
                continue
            try:
                got = method()
            except Exception:
                continue
            if isinstance(got, tuple):
                got = got[0]
            if got is None:
                continue
            if mime.startswith("image/") and mime != "image/svg+xml" and isinstance(got, (bytes, bytearray)):
                import base64
                got = base64.b64encode(bytes(got)).decode("ascii")
            if mime == "application/json" or isinstance(got, str):
                data[mime] = got
    # nbformat wants strings (or JSON for json types) for every mime type.
    for mime in list(data):
        if not (isinstance(data[mime], str) or mime.endswith("json")):
            del data[mime]
    if not isinstance(data.get("text/plain"), str):
        data["text/plain"] = _plain_text(obj)
    return data


# ---------------------------------------------------------------------------
# Keeping the step's output

def _keep_output(path):
    """Copy everything the step writes to fds 1 and 2 -- Python, C extensions
    and child processes alike -- to the original streams and to a file, so
    that the output outlives the pod that printed it.

    The process that started the step becomes the copier: it forks, the
    child goes on to run the step, and the copier copies until the step and
    every process it left holding its streams are gone, then exits with the
    step's status (a step killed by a signal is reported killed by it).
    The copier is thus the process the pod waits for: should the step die
    abruptly (a segfault, os._exit, SIGKILL), whatever it wrote is still in
    the pipes and reaches both the pod's log and the file. Signals meant for
    the step (a cancel) are passed on to it.

    Returns in the step's process only; raises OSError, in the starting
    process, when the copying cannot be set up.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    fds = [log]
    try:
        out_r, out_w = os.pipe()
        fds += [out_r, out_w]
        err_r, err_w = os.pipe()
        fds += [err_r, err_w]
        pid = os.fork()
    except OSError:
        for fd in fds:
            os.close(fd)
        raise
    if pid == 0:  # the step
        # A group of its own: a signal sent to the pod's process group
        # reaches the step once, through the copier, not twice.
        try:
            os.setpgid(0, 0)
        except OSError:
            pass
        for fd in (out_r, err_r, log):
            os.close(fd)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.close(out_w)
        os.close(err_w)
        return
    code = 1
    try:
        try:
            os.setpgid(pid, pid)  # also here: whichever runs first
        except OSError:
            pass
        os.close(out_w)
        os.close(err_w)
        status = _copy_until_done(pid, {out_r: 1, err_r: 2}, log)
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            code = 128 + sig
            if sig != signal.SIGKILL:
                signal.signal(sig, signal.SIG_DFL)  # ours forwards it
            os.kill(os.getpid(), sig)
        else:
            code = os.waitstatus_to_exitcode(status)
    finally:
        os._exit(code)


# Once the step has exited, processes it left behind may keep its streams
# open for ever (a server started with `!cmd &`): the copier waits this long
# for them, then ends the step.
_DRAIN_AFTER_EXIT = 2.0


def _copy_until_done(pid, pipes, log):
    reaped = False

    def forward(sig, frame):
        # To the step's group (the step and what it started), as the
        # signal would have reached them without us; never once the step
        # is reaped, when its pid may be another process's.
        if not reaped:
            try:
                os.killpg(pid, sig)
            except OSError:
                pass

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, forward)
    poller = select.poll()
    for r in pipes:
        poller.register(r, select.POLLIN | select.POLLHUP | select.POLLERR)
    broken = set()  # destinations that failed: the others still get everything
    status, deadline = None, None
    while pipes:
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                reaped = True
                status, deadline = st, time.monotonic() + _DRAIN_AFTER_EXIT
        elif time.monotonic() > deadline:
            break
        for r, _ in poller.poll(100):
            try:
                data = os.read(r, 1 << 16)
            except OSError:
                data = b""
            if not data:
                poller.unregister(r)
                del pipes[r]
                continue
            for dst in (pipes[r], log):
                if dst not in broken:
                    try:
                        _write_all(dst, data)
                    except OSError:
                        broken.add(dst)  # a full volume must not cost the pod's log, nor the reverse
    if status is None:
        _, status = os.waitpid(pid, 0)
        reaped = True
    return status


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# ---------------------------------------------------------------------------
# Output capture

_STREAM_CAP = 2 << 20  # per cell and stream: keep reports small when a loop prints


class _Tee:
    """Writes go to the real stream (logs) and to the running cell's outputs."""

    def __init__(self, step, name, stream):
        self._step = step
        self._name = name
        self._stream = stream

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        self._stream.write(text)
        if "\n" in text or "\r" in text:
            try:
                self._stream.flush()  # logs of a running step should not wait for a full buffer
            except (OSError, ValueError):
                pass
        self._step._capture(self._name, text)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        self._stream.flush()

    def __getattr__(self, attr):
        return getattr(self._stream, attr)


def _ends_with_semicolon(source, node):
    lines = source.splitlines()
    if node.end_lineno is None or node.end_lineno > len(lines):
        return False
    rest = lines[node.end_lineno - 1].encode("utf-8")[node.end_col_offset:].decode("utf-8", "replace")
    return rest.lstrip().startswith(";")


_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect


def _runtime_frame(fs):
    return not fs.filename.startswith("<") and os.path.normcase(os.path.abspath(fs.filename)) == _THIS_FILE


def _format_exception(exc):
    """Traceback lines without the runtime's frames, cells as "cell N, line L"."""
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    seen = set()
    todo = [te]
    while todo:
        t = todo.pop()
        if t is None or id(t) in seen:
            continue
        seen.add(id(t))
        t.stack = traceback.StackSummary.from_list([fs for fs in t.stack if not _runtime_frame(fs)])
        todo.append(t.__cause__)
        todo.append(t.__context__)
    text = "".join(te.format())
    text = re.sub(r'File "<cell (\d+)>", line (\d+)', r"cell \1, line \2", text)
    return text.rstrip("\n").split("\n")


# ---------------------------------------------------------------------------
# Shell escapes and magics (IPython's !cmd, x = !cmd, %%magic)

class SList(list):
    """The list of lines that `x = !cmd` gives, with IPython's .s/.n/.l views."""

    @property
    def s(self):
        return " ".join(self)

    @property
    def n(self):
        return "\n".join(self)

    @property
    def l(self):  # noqa: E743 - IPython's name
        return list(self)

    def grep(self, pattern):
        rx = re.compile(pattern)
        return SList(line for line in self if rx.search(line))


_DOLLAR = re.compile(r"\$(\$?[\w.]+)")


def _expand(cmd, frame):
    """IPython's variable expansion of shell commands: {expr}, $name, $$ escapes.

    As in IPython, a command whose expansion fails (awk's '{print $1}') runs
    unexpanded.
    """
    if "{" not in cmd and "$" not in cmd:
        return cmd
    import string
    g, l = frame.f_globals, frame.f_locals

    def dollars(text):
        out = []
        pos = 0
        for m in _DOLLAR.finditer(text):
            if text.count("'", 0, m.start()) % 2:  # inside single quotes
                continue
            word = m.group(1)
            out.append(text[pos:m.start()])
            out.append(word if word.startswith("$") else str(eval(word, g, l)))
            pos = m.end()
        out.append(text[pos:])
        return "".join(out)

    try:
        out = []
        for literal, field, spec, conv in string.Formatter().parse(cmd):
            out.append(dollars(literal))
            if field is not None:
                value = eval(field, g, l)
                if conv:
                    value = {"r": repr, "s": str, "a": ascii}[conv](value)
                out.append(format(value, spec or ""))
        return "".join(out)
    except Exception:
        return cmd


def _exit_status(returncode):
    # /bin/sh reports a child killed by signal N as 128+N; IPython shows -N.
    if returncode > 128:
        return -(returncode - 128)
    return returncode


# `!cmd` in ipykernel runs cmd under a pseudo-terminal (IPython's
# utils/_process_posix.py system(), with pexpect): programs see a terminal,
# so `ls` prints columns to fit ptyprocess' default 24x80 window, progress
# bars draw, and the terminal's line discipline turns each "\n" into "\r\n".
# sh() does the same, so that a step prints what the notebook printed.
_PTY_ROWS, _PTY_COLS = 24, 80
# ipykernel sets these for the whole kernel (ZMQInteractiveShell.
# init_environment): with a terminal, a pager would wait for keys nobody
# types. They go to `!cmd` only, and a value the step set itself (%env) wins.
_KERNEL_ENV = {"TERM": "xterm-color", "CLICOLOR": "1", "PAGER": "cat", "GIT_PAGER": "cat"}
_ENV_AT_START = {k: os.environ.get(k) for k in _KERNEL_ENV}


def _open_pty():
    import fcntl
    import struct
    import termios
    master, slave = os.openpty()
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", _PTY_ROWS, _PTY_COLS, 0, 0))
    except BaseException:
        os.close(master)
        os.close(slave)
        raise
    return master, slave


def sh(cmd):
    """`!cmd`: run cmd with /bin/sh under a pseudo-terminal, as ipykernel does; stream
    its output, set _exit_code; never raises on failure."""
    import codecs
    import subprocess
    frame = sys._getframe(1)
    cmd = _expand(cmd, frame)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    env = dict(os.environ)
    for k, v in _KERNEL_ENV.items():
        if os.environ.get(k) == _ENV_AT_START[k]:
            env[k] = v
    try:
        master, slave = _open_pty()
    except OSError:
        # No terminals to be had (a container without /dev/pts): a pipe,
        # as a program that checks for a terminal sees under `x = !cmd`.
        master, slave = os.pipe()
    try:
        # stdout and stderr are the terminal; stdin stays /dev/null, as
        # before: nobody answers a prompt in a pipeline, and a program that
        # asks gets end-of-file rather than waiting for ever. The child
        # stays in the step's process group (no setsid, unlike pexpect),
        # so that a cancel sent to the step reaches it.
        p = subprocess.Popen(["/bin/sh", "-c", cmd], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                             env=env)
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)  # the child's copies alone keep the terminal open
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    poller = select.poll()
    poller.register(master, select.POLLIN | select.POLLHUP | select.POLLERR)
    try:
        deadline = None
        while True:
            # Once the shell is done, what it left in the background
            # (`!server &`) may hold the terminal for ever: its output is
            # read a little longer, as the log copier does, then the cell
            # goes on.
            if deadline is None and p.poll() is not None:
                deadline = time.monotonic() + _DRAIN_AFTER_EXIT
            wait = 0.1 if deadline is None else max(0.0, deadline - time.monotonic())
            if not poller.poll(int(wait * 1000)):
                if deadline is not None and time.monotonic() >= deadline:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every process holding the terminal closed it
                chunk = b""
            if not chunk:
                break
            text = decoder.decode(chunk)
            if text:
                sys.stdout.write(text)
                sys.stdout.flush()
        text = decoder.decode(b"", True)
        if text:
            sys.stdout.write(text)
        p.wait()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    frame.f_globals["_exit_code"] = _exit_status(p.returncode)


def getoutput(cmd):
    """`x = !cmd`: the output lines (stdout and stderr together) of cmd run with /bin/sh."""
    import subprocess
    cmd = _expand(cmd, sys._getframe(1))
    p = subprocess.run(["/bin/sh", "-c", cmd], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return SList(p.stdout.decode("utf-8", "replace").splitlines())


_shells = {}


def _ipython_shell(namespace, what):
    shell = _shells.get(id(namespace))
    if shell is not None and shell.user_ns is namespace:
        return shell
    try:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config
    except ImportError:
        raise MagicError("%s needs IPython, which is not importable by %s; add ipython to the step's "
                         "image, or rewrite the cell without the magic" % (what, sys.executable)) from None
    cfg = Config()
    cfg.HistoryManager.enabled = False  # no sqlite file in a pod's read-only home
    if InteractiveShell.initialized():
        shell = InteractiveShell(config=cfg, user_ns=namespace)
    else:
        shell = InteractiveShell.instance(config=cfg, user_ns=namespace)
    _shells[id(namespace)] = shell
    return shell


def run_cell_magic(name, line, body, namespace):
    """`%%name line` + body, run by IPython (MagicError when IPython is missing)."""
    return _ipython_shell(namespace, "%%" + name).run_cell_magic(name, line, body)


def line_magic(name, line, namespace):
    """`%name line` (and `x = %name line`), run by IPython (MagicError when IPython is missing)."""
    return _ipython_shell(namespace, "%" + name).run_line_magic(name, line)


def timeit(line, namespace):
    """`%timeit [options] STMT`: as IPython runs it, in a function of its own, so
    nothing STMT binds reaches the step's namespace; the standard library's timeit
    stands in where IPython is missing."""
    try:
        return line_magic("timeit", line, namespace)
    except MagicError:
        return _timeit(line, "", namespace)


def timeit_cell(line, body, namespace):
    """`%%timeit [options] [SETUP]` over a body: the body is timed, never bound."""
    try:
        return run_cell_magic("timeit", line, body, namespace)
    except MagicError:
        return _timeit(line, body, namespace)


def _timeit(line, body, namespace):
    import math
    import timeit as _timeit_mod
    words = line.split(None)
    number, repeat, quiet, ret = 0, 7, False, False
    while words and words[0].startswith("-"):
        opt = words.pop(0)
        if opt in ("-n", "-r", "-p") and words:
            value = words.pop(0)
            if opt == "-n":
                number = int(value)
            elif opt == "-r":
                repeat = int(value)
        elif opt == "-q":
            quiet = True
        elif opt == "-o":
            ret = True
    rest = " ".join(words)
    stmt, setup = (body, rest) if body.strip() else (rest, "pass")
    timer = _timeit_mod.Timer(stmt or "pass", setup or "pass", globals=namespace)
    if number == 0:
        number, _ = timer.autorange()
    runs = [t / number for t in timer.repeat(repeat=repeat, number=number)]
    mean = sum(runs) / len(runs)
    std = math.sqrt(sum((r - mean) ** 2 for r in runs) / len(runs))

    def fmt(t):
        for unit, scale in (("s", 1.0), ("ms", 1e3), ("µs", 1e6), ("ns", 1e9)):
            if t >= 1.0 / scale or unit == "ns":
                return "%.3g %s" % (t * scale, unit)

    if not quiet:
        print("%s ± %s per loop (mean ± std. dev. of %d run%s, %d loop%s each)" % (
            fmt(mean), fmt(std), repeat, "" if repeat == 1 else "s", number, "" if number == 1 else "s"))
    return runs if ret else None


run_line_magic = line_magic


def setenv(arg):
    """`%env`: `%env A=B` or `%env A B` sets it and says so; `%env A` returns A's
    value and `%env` all of them, as IPython does (shown when the cell ends with it,
    or bound by `x = %env A`)."""
    arg = _expand(arg.strip(), sys._getframe(1))
    if not arg:
        return dict(os.environ)
    if "=" in arg:
        var, _, value = arg.partition("=")
    else:
        var, _, value = arg.partition(" ")
        if not _:
            return os.environ.get(var.strip(), "")
    var, value = var.strip(), value.strip()
    os.environ[var] = value
    print("env: %s=%s" % (var, value))
    return None


_previous_dir = []


def chdir(arg):
    """`%cd`: no argument goes home, `-` goes back; prints the new directory like IPython."""
    arg = _expand(arg.strip(), sys._getframe(1))
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "'\"":
        arg = arg[1:-1]
    if arg == "-":
        if not _previous_dir:
            raise OSError("%cd -: there is no previous directory")
        target = _previous_dir[-1]
    else:
        target = os.path.expanduser(arg or "~")
    here = os.getcwd()
    os.chdir(target)
    _previous_dir[:] = [here]
    print(os.getcwd())


class Captured:
    """What `%%capture NAME` binds: the captured stdout, stderr and rich outputs."""

    def __init__(self):
        self.stdout = ""
        self.stderr = ""
        self.outputs = []  # mime bundles, as display() produced them

    def show(self):
        if self.stdout:
            sys.stdout.write(self.stdout)
        if self.stderr:
            sys.stderr.write(self.stderr)
        step = _active_step
        for data in self.outputs:
            if step is not None:
                step._emit_display(data)
            else:
                print(data.get("text/plain", ""))

    __call__ = show

    def __repr__(self):
        return "<datainsight_runtime.Captured: %d chars stdout, %d chars stderr, %d outputs>" % (
            len(self.stdout), len(self.stderr), len(self.outputs))


class _CaptureStream(io.TextIOBase):
    def __init__(self, target, attr):
        self._target = target
        self._attr = attr

    def writable(self):
        return True

    def write(self, text):
        setattr(self._target, self._attr, getattr(self._target, self._attr) + text)
        return len(text)


class capture:
    """`%%capture [--no-stdout] [--no-stderr] [--no-display] [NAME]` as a with block.

    The generator turns the cell into `with _di.capture(args) as NAME:` and
    indents the body.
    """

    def __init__(self, args=""):
        words = args.split()
        self._stdout = "--no-stdout" not in words
        self._stderr = "--no-stderr" not in words
        self._display = "--no-display" not in words
        self.result = Captured()
        self._saved = None

    def __enter__(self):
        self._saved = (sys.stdout, sys.stderr)
        if self._stdout:
            sys.stdout = _CaptureStream(self.result, "stdout")
        if self._stderr:
            sys.stderr = _CaptureStream(self.result, "stderr")
        if self._display and _active_step is not None:
            _active_step._captures.append(self.result)
        return self.result

    def __exit__(self, *exc):
        sys.stdout, sys.stderr = self._saved
        if self._display and _active_step is not None:
            # In the kernel the cell's figures are flushed inside the magic,
            # so %%capture swallows them too.
            _active_step._capture_figures()
        if self._display and _active_step is not None and self.result in _active_step._captures:
            _active_step._captures.remove(self.result)
        return False


# ---------------------------------------------------------------------------
# The step

def _param_type_ok(default, value):
    if default is None:
        return True, value
    if isinstance(default, bool):
        return isinstance(value, bool), value
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool), value
    if isinstance(default, float):
        if isinstance(value, bool):
            return False, value
        if isinstance(value, int):
            return True, float(value)
        return isinstance(value, float), value
    return type(value) is type(default), value


def _json_scalar(value):
    """value as a JSON metric value, or None when it is not a scalar."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, (bool, str)):
        return value, True
    if isinstance(value, int):
        return value, True
    if isinstance(value, float):
        if value != value:
            return "NaN", True
        if value in (float("inf"), float("-inf")):
            return ("Infinity" if value > 0 else "-Infinity"), True
        return value, True
    return None, False


# ---------------------------------------------------------------------------
# Files the step reads

# A step's outputs depend on the files it reads as much as on its inputs, and
# no analysis of the source sees them all (paths built at run time, the
# notebook's own modules, a library opening a file). An audit hook sees
# every open() -- Python's, numpy's, pandas', an import's -- and the step
# records what it read, so that a cached step is reused only while those
# files are unchanged. Reads by child processes and by C code that bypasses
# Python's open (pyarrow, HDF5) are not seen: the analysis' file reads cover
# the common ones.

_reads = None  # the _ReadLog of this process's step, once one records


def _audit(event, args):
    log = _reads
    if log is None or event != "open":
        return
    try:  # an exception here would fail the open() itself
        log.opened(*args[:3])
    except Exception:
        pass


class _ReadLog:
    """Files opened for reading, each with its size and mtime when first opened."""

    def __init__(self, workdir, skip, system=()):
        def prefixes(paths):
            return tuple(sorted({os.path.join(os.path.abspath(p), "") for p in paths if p}))
        self.workdir = workdir
        self.skip = prefixes(skip)
        # The operating system's files (time zones, certificates, fonts) are
        # no step's input, unless the notebook itself lives among them (an
        # image's /usr/src/app).
        self.system = prefixes(system)
        self.here = os.path.join(workdir, "")
        self.files = {}
        self.made = set()  # files the step wrote afresh: reading them back reads no input

    def opened(self, path, mode, flags):
        if isinstance(path, int) or path is None:
            return
        reading = _reading(mode, flags)
        if not reading and not _replacing(mode, flags):
            return
        path = os.path.abspath(os.fsdecode(os.fspath(path)))
        if not reading:
            if path not in self.files:
                self.made.add(path)
            return
        path = _source_of(path)
        if path in self.files or path in self.made or path.startswith(self.skip):
            return
        if path.startswith(self.system) and not path.startswith(self.here):
            return
        try:
            st = os.stat(path)
        except OSError:
            # Missing: should it appear, the step may do otherwise. (Not
            # for os.open, whose path may be relative to a dir_fd the
            # event does not tell: shutil.rmtree opens folders so.)
            if isinstance(mode, str):
                self.files[path] = None
            return
        if st.st_mode & 0o170000 == 0o100000:  # a regular file (stat.S_ISREG, without an import here)
            self.files[path] = (st.st_size, st.st_mtime_ns)

    def record(self):
        out = []
        for path, st in sorted(self.files.items()):
            rel = os.path.relpath(path, self.workdir)
            if rel == os.pardir or rel.startswith(os.pardir + os.sep):
                rel = path
            entry = {"path": rel.replace(os.sep, "/")}
            if st is None:
                entry["missing"] = True
            else:
                entry["size"], entry["mtime_ns"] = st
            out.append(entry)
        return {"version": 1, "workdir": self.workdir, "files": out}


def _reading(mode, flags):
    """Whether an open may read what the file held before it."""
    if isinstance(mode, str):  # open(), io.FileIO
        return "r" in mode or ("a" in mode and "+" in mode)
    if not isinstance(flags, int):  # os.open
        return False
    if flags & (os.O_TRUNC | os.O_EXCL):
        return False
    return flags & os.O_ACCMODE in (os.O_RDONLY, os.O_RDWR)


def _replacing(mode, flags):
    """Whether an open starts the file afresh, whatever it held."""
    if isinstance(mode, str):
        return "w" in mode or "x" in mode
    return isinstance(flags, int) and bool(flags & (os.O_TRUNC | os.O_EXCL))


def _source_of(path):
    """A module's .py for its cached bytecode: an import reads the one or the other."""
    head, name = os.path.split(path)
    if name.endswith(".pyc") and os.path.basename(head) == "__pycache__":
        src = os.path.join(os.path.dirname(head), name.split(".", 1)[0] + ".py")
        if os.path.exists(src):
            return src
    return path


def _library_paths():
    """Where the interpreter's own modules live: the standard library and site-packages."""
    import sysconfig
    paths = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            paths.add(sysconfig.get_path(key))
        except KeyError:
            pass
    try:
        import site
        paths.update(site.getsitepackages())
        paths.add(site.getusersitepackages())
    except Exception:  # a virtualenv's old site.py lacks these
        pass
    for p in sys.path:
        parts = p.split(os.sep)
        if "site-packages" in parts or "dist-packages" in parts or p.endswith(".zip"):
            paths.add(p)
    return [os.path.abspath(p) for p in paths if p]


def _start_reads(root):
    """Start recording the files this process opens for reading."""
    global _reads
    workdir = os.getcwd()
    here = os.path.join(workdir, "")
    skip = [root, os.path.dirname(_THIS_FILE), "/proc", "/dev", "/sys"] + _library_paths()
    # The interpreter's installation (a virtualenv's too), unless the
    # notebook's folder is inside it.
    for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        if p and not here.startswith(os.path.join(os.path.abspath(p), "")):
            skip.append(p)
    system = ["/usr", "/etc", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/run", "/var/lib", "/var/cache"]
    _reads = _ReadLog(workdir, skip, system)
    if not getattr(_audit, "_installed", False):
        sys.addaudithook(_audit)  # for good: hooks cannot be removed
        _audit._installed = True
    return _reads


_active_step = None  # the Step of this process, for display() inside %%capture


# ---------------------------------------------------------------------------
# Modules bound by upstream steps

# A function passed between steps (dill) looks its globals up in the
# loading step's namespace: `re` in `def no_digits(s): return re.sub(...)`
# is found in the kernel, which imported re in an earlier cell, but not in a
# step that never imports re. So each step records in its manifest the
# module bindings of its namespace (name -> module name: re -> re, np ->
# numpy, plt -> matplotlib.pyplot), and a step binds every name the steps it
# loads from had bound to a module and it does not bind itself: directly
# when the module is imported already, else to an _InheritedModule, which
# imports it on first use, so that an unused module costs nothing.
#
# Transitive rule: a step records the bindings it inherited along with its
# own, whether or not it used them (unless it bound the name to something
# else), so a function made in step A and passed on by B finds A's modules
# in C, which loads from B only. When two upstream steps bound a name to
# different modules, the one whose last cell comes later in the notebook
# wins, as the later import would have in the kernel.


def _module_name(module):
    """The importable name of a module object, without importing a lazy one."""
    try:
        d = object.__getattribute__(module, "__dict__")
    except AttributeError:
        return None
    spec = d.get("__spec__")
    name = getattr(spec, "name", None) if spec is not None else None
    name = name or d.get("__name__")
    return name if isinstance(name, str) else None


class _InheritedModule(types.ModuleType):
    """Module `name`, which a step this one loads from had bound as `binding`.

    The first attribute asked of it imports the module, which then replaces
    it in the namespace; functions loaded from that step look it up there.
    """

    def __init__(self, name, binding, namespace):
        types.ModuleType.__init__(self, name)
        self.__dict__["__di_inherited__"] = (binding, namespace)

    def _di_module(self):
        d = object.__getattribute__(self, "__dict__")
        mod = d.get("__di_module__")
        if mod is None:
            import importlib
            name = d["__name__"]
            binding, namespace = d["__di_inherited__"]
            try:
                mod = importlib.import_module(name)
            except ImportError as e:
                raise ImportError("%s is module %s, which an earlier step of the notebook imported, but it cannot "
                                  "be imported here: %s" % (binding, name, e)) from None
            d["__di_module__"] = mod
            if namespace.get(binding) is self:
                namespace[binding] = mod
            if _active_step is not None:
                _active_step._patch_pyplot()  # plt.show() must put figures in the report
        return mod

    def __getattr__(self, attr):
        if attr.startswith("__di_"):
            raise AttributeError(attr)
        return getattr(self._di_module(), attr)

    def __setattr__(self, attr, value):
        setattr(self._di_module(), attr, value)

    def __delattr__(self, attr):
        delattr(self._di_module(), attr)

    def __dir__(self):
        return dir(self._di_module())

    def __repr__(self):
        d = object.__getattribute__(self, "__dict__")
        if d.get("__di_module__") is not None:
            return repr(d["__di_module__"])
        return "<module %r, imported when first used>" % d["__name__"]


# -- global random generators ---------------------------------------------
#
# In a kernel the global random generators advance from cell to cell; each
# step is a fresh process. The analyzer treats a generator's state as a
# value (its RNG rule): a step that draws from numpy.random's legacy global
# generator, the random module or torch's default generator loads the
# pseudo-value __rng_numpy__, __rng_random__ or __rng_torch__ from the step
# that drew before it and saves it for the next. These names are never
# bound in the namespace: save reads the generator's state
# (np.random.get_state(), random.getstate(), torch.get_rng_state() and,
# where CUDA is initialised, torch.cuda.get_rng_state_all()) and load sets
# it, returning None.
#
# Session settings (pd.set_option(...), np.set_printoptions(...),
# warnings.filterwarnings(...), plt.rcParams[...] = ..., ...) need nothing
# here: the generator replays them, after the imports they need, at the
# start of every later step (the analyzer's settings rule).

RNG_STATES = ("__rng_numpy__", "__rng_random__", "__rng_torch__")


def _rng_module(name):
    import importlib
    return importlib.import_module({"__rng_numpy__": "numpy", "__rng_random__": "random",
                                    "__rng_torch__": "torch"}[name])


def rng_state(name):
    """The current state of the global generator the pseudo-value name stands for."""
    mod = _rng_module(name)
    if name == "__rng_numpy__":
        return mod.random.get_state()
    if name == "__rng_random__":
        return mod.getstate()
    cuda = None
    try:
        if mod.cuda.is_available() and mod.cuda.is_initialized():
            cuda = mod.cuda.get_rng_state_all()
    except Exception:  # a build without CUDA, or a broken driver: the CPU state still counts
        cuda = None
    return {"cpu": mod.get_rng_state(), "cuda": cuda}


def set_rng_state(name, state):
    """Set the global generator the pseudo-value name stands for to state (from rng_state)."""
    mod = _rng_module(name)
    if name == "__rng_numpy__":
        mod.random.set_state(state)
    elif name == "__rng_random__":
        mod.setstate(state)
    else:
        mod.set_rng_state(state["cpu"])
        if state.get("cuda") is not None and mod.cuda.is_available():
            mod.cuda.set_rng_state_all(state["cuda"])


class Step:
    """One pipeline step of one run: loads, runs cells, saves, reports."""

    def __init__(self, name, notebook=None, root=None, run_id=None, exit_on_error=True):
        if not _STEP_NAME.match(name or ""):
            raise ValueError("step name %r is not valid: it must match [_a-z][_a-z0-9]*" % (name,))
        root = root if root is not None else os.environ.get(ENV_ROOT)
        run_id = run_id if run_id is not None else os.environ.get(ENV_RUN)
        if not root:
            raise ValueError("step %r: the marshal root is not set (environment variable %s)" % (name, ENV_ROOT))
        if not run_id or not _RUN_ID.match(run_id):
            raise ValueError("step %r: the run id %r is not valid (environment variable %s)" % (name, run_id, ENV_RUN))
        self.name = name
        self.notebook = notebook
        self.run_id = run_id
        # Absolute: a cell may chdir.
        self.root = os.path.abspath(root)
        self.dir = os.path.join(self.root, run_id, name)
        self._exit_on_error = exit_on_error
        self._exit_code = EXIT_OK
        self._errors = []
        self._cells = []
        self._exec_count = 0
        self._current = None
        self._streams = None
        self._begun = False
        self._finished = False
        self._manifests = {}
        self._entries = {}
        # Groups of values (see save_group) loaded for the loads that come
        # next, by (producer, group); dropped when a cell runs, so that a
        # group member no load asked for is not kept.
        self._loaded_groups = {}
        self._metrics = []
        self._params = {}
        self._shared = set()
        # Module bindings of the steps loaded from: name -> (rank, module).
        self._inherited = {}
        self._bind_pending = False
        self._last_cell = None
        self._loop = None
        self._started = time.time()
        self._atexit = False
        self._captures = []
        # A multiprocessing worker started by "spawn" or "forkserver" runs
        # the script that creates the Step again, as __mp_main__, to find
        # the functions it is sent. It gets what a module would give it --
        # the imports and functions cells -- and nothing else runs: no step
        # cells, no loads, saves or report, no restarted log.
        try:
            self._worker = sys._getframe(1).f_globals.get("__name__") == "__mp_main__"
        except ValueError:
            self._worker = False
        if os.environ.get(ENV_KEEP_LOG, "") not in ("", "0") and not self._worker:
            self._keep_log()
        self._reads = None if self._worker else _start_reads(self.root)
        global _active_step
        _active_step = self

    def _keep_log(self):
        """Keep the step's output in its folder (on a cluster, the pod's log goes with the pod)."""
        try:
            if not os.path.isdir(self.dir):
                os.makedirs(self.dir, exist_ok=True)
                _fsync_dir(os.path.dirname(self.dir))
                _fsync_dir(self.root)
            _keep_output(os.path.join(self.dir, LOG))
        except OSError as e:
            sys.stderr.write("datainsight: step %s: its output is not kept (%s)\n" % (self.name, e))

    # -- failure handling ---------------------------------------------------

    @property
    def failed(self):
        return self._exit_code != EXIT_OK

    def _fail(self, code, exc):
        """Record a step failure; later calls become no-ops until finish()."""
        if not self._exit_on_error:
            raise exc
        message = str(exc)
        self._errors.append(message)
        if self._exit_code == EXIT_OK:
            self._exit_code = code
        self._real("stderr").write("datainsight: step %s: %s\n" % (self.name, message))
        self._real("stderr").flush()
        if not self._atexit and not self._worker:
            # Should the script stop before finish(), the step must still
            # fail and leave its report behind.
            import atexit
            atexit.register(self._exit_unfinished)
            self._atexit = True

    def _exit_unfinished(self):
        if not self._finished and self.failed:
            try:
                self._write_reports()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(self._exit_code)

    # -- parameters ---------------------------------------------------------

    def param(self, name, default):
        """The pipeline parameter name: DATAINSIGHT_PARAM_<name> as a Python literal, else default."""
        if self.failed:
            return None
        var = ENV_PARAM_PREFIX + name
        raw = os.environ.get(var)
        if raw is None:
            self._params[name] = default
            return default
        try:
            value = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as e:
            self._fail(EXIT_MARSHAL_FAILED, ParameterError(
                "parameter %r: %s=%r is not a Python literal (%s); strings need quotes, e.g. %s='text'"
                % (name, var, raw, _one_line(e) or type(e).__name__, var)))
            return None
        ok, value = _param_type_ok(default, value)
        if not ok:
            self._fail(EXIT_MARSHAL_FAILED, ParameterError(
                "parameter %r: %s=%r is a %s, but the parameter is a %s (default %r)"
                % (name, var, raw, type(value).__name__, type(default).__name__, default)))
            return None
        self._params[name] = value
        self._real("stderr").write("datainsight: parameter %s = %r (from %s)\n" % (name, value, var))
        return value

    # -- loading ------------------------------------------------------------

    def _manifest(self, producer, name):
        if producer in self._manifests:
            return self._manifests[producer]
        directory = os.path.join(self.root, self.run_id, producer)
        try:
            manifest = read_manifest(directory)
        except FileNotFoundError:
            raise MarshalError("cannot load %r from step %r: %s does not exist, so step %r did not finish "
                               "saving its outputs in run %r" % (name, producer, os.path.join(directory, MANIFEST),
                                                                 producer, self.run_id)) from None
        except (OSError, ValueError) as e:
            raise MarshalError("cannot load %r from step %r: its manifest is unreadable: %s"
                               % (name, producer, _one_line(e))) from None
        self._manifests[producer] = manifest
        self._inherit_modules(manifest)
        return manifest

    def _inherit_modules(self, manifest):
        modules = manifest.get("modules")
        if not isinstance(modules, dict):
            return
        rank = manifest.get("last_cell")
        rank = rank if isinstance(rank, int) else -1
        for name, module in modules.items():
            if not (isinstance(name, str) and name.isidentifier() and isinstance(module, str) and module):
                continue
            have = self._inherited.get(name)
            if have is None or rank > have[0]:
                self._inherited[name] = (rank, module)
                self._bind_pending = True

    def _bind_inherited(self, namespace):
        """Bind the upstream steps' modules that namespace does not bind (see _InheritedModule)."""
        if not self._bind_pending:
            return
        self._bind_pending = False
        for name, (_, module) in sorted(self._inherited.items()):
            if name in namespace:
                continue
            mod = sys.modules.get(module)
            namespace[name] = mod if mod is not None else _InheritedModule(module, name, namespace)

    def _module_bindings(self, namespace):
        """What the manifest records (see _InheritedModule): inherited bindings and the namespace's own."""
        out = {name: module for name, (_, module) in self._inherited.items()}
        for name, value in list(namespace.items()):
            if not isinstance(name, str) or name.startswith("__"):
                continue
            if not isinstance(value, types.ModuleType):
                out.pop(name, None)  # bound to something else here
                continue
            module = _module_name(value)
            if module and module not in (__name__, "__main__"):
                out[name] = module
            else:
                out.pop(name, None)
        return out

    def load(self, name, producer):
        """The value name saved by step producer in this run."""
        if self.failed or self._worker:
            return None
        try:
            if not _STEP_NAME.match(producer or ""):
                raise MarshalError("cannot load %r: %r is not a step name" % (name, producer))
            manifest = self._manifest(producer, name)
            values = manifest.get("values", {})
            if name not in values:
                raise MarshalError("cannot load %r from step %r: step %r did not save %r (it saved: %s)"
                                   % (name, producer, producer, name, ", ".join(sorted(values)) or "nothing"))
            started = time.perf_counter()
            entry = values[name]
            directory = os.path.join(self.root, self.run_id, producer)
            group = entry.get("group")
            if group:
                # Loaded once for all the names this step loads from it:
                # the objects they share are then one object again.
                key = (producer, group)
                if key not in self._loaded_groups:
                    self._loaded_groups[key] = load_group(directory, name, entry)
                members = self._loaded_groups[key]
                if name not in members:
                    raise MarshalError("cannot load %r from step %r: %s does not hold it, although the manifest "
                                       "says so" % (name, producer, os.path.join(directory, entry["file"])))
                value = members[name]
            else:
                value = load_value(directory, name, entry)
            if name in RNG_STATES:
                set_rng_state(name, value)  # a generator's state: set, never bound
                value = None
        except MarshalError as e:
            self._fail(EXIT_MARSHAL_FAILED, e)
            return None
        except Exception as e:
            self._fail(EXIT_MARSHAL_FAILED, MarshalError("cannot load %r from step %r: %s: %s"
                                                         % (name, producer, type(e).__name__, _one_line(e))))
            return None
        with_ = sorted(n for n, e in values.items() if group and n != name and e.get("group") == group)
        self._log("loaded %s from %s (%s, %s%s, %.2f s)" % (
            name, producer, entry.get("format"), _human(entry.get("size", 0)),
            ", saved with %s" % ", ".join(with_) if with_ else "", time.perf_counter() - started))
        return value

    # -- running cells ------------------------------------------------------

    def _begin(self):
        if self._begun:
            return
        self._begun = True
        created = not os.path.isdir(self.dir)
        os.makedirs(self.dir, exist_ok=True)
        if created:
            _fsync_dir(os.path.dirname(self.dir))
            _fsync_dir(self.root)
        # A retried or re-run step starts clean: its old manifest must not
        # describe values that are about to be replaced, and the temporary
        # files of a killed attempt and values of an earlier one (maybe in
        # another format) are garbage. Other files are not ours to delete.
        exts = set(_EXT.values()) | {ARTIFACT_EXT}
        for entry in os.listdir(self.dir):
            stem, ext = os.path.splitext(entry)
            if stem.startswith(_GROUP_PREFIX):
                stem = stem[len(_GROUP_PREFIX):]
            if entry.startswith(TMP_PREFIX) or entry in (MANIFEST, METRICS, READS) or (ext in exts and stem.isidentifier()):
                try:
                    os.unlink(os.path.join(self.dir, entry))
                except OSError:
                    pass

    def _real(self, name):
        if self._streams is not None:
            return self._streams[name]._stream
        return getattr(sys, name)

    def _install_streams(self):
        if self._streams is None:
            # Installed once and left in place: a logging handler created in
            # one cell keeps writing through it in later cells.
            self._streams = {"stdout": _Tee(self, "stdout", sys.stdout), "stderr": _Tee(self, "stderr", sys.stderr)}
            sys.stdout = self._streams["stdout"]
            sys.stderr = self._streams["stderr"]

    def _uninstall_streams(self):
        if self._streams is not None:
            if sys.stdout is self._streams["stdout"]:
                sys.stdout = self._streams["stdout"]._stream
            if sys.stderr is self._streams["stderr"]:
                sys.stderr = self._streams["stderr"]._stream
            self._streams = None

    def _capture(self, name, text):
        cell = self._current
        if cell is None:
            return
        outputs = cell["outputs"]
        if outputs and outputs[-1]["output_type"] == "stream" and outputs[-1]["name"] == name:
            out = outputs[-1]
        else:
            out = {"output_type": "stream", "name": name, "text": ""}
            outputs.append(out)
        sizes = cell["_sizes"]
        used = sizes.get(name, 0)
        if used >= _STREAM_CAP:
            return
        if used + len(text) > _STREAM_CAP:
            text = text[:_STREAM_CAP - used] + "\n[... output truncated in the report; the log has all of it ...]\n"
        sizes[name] = used + len(text)
        out["text"] += text

    def _log(self, message):
        stream = self._real("stderr")
        stream.write("datainsight: %s\n" % message)
        stream.flush()

    def display(self, *objs, **kwargs):
        """IPython's display(): rich output into the report, plain text to stdout."""
        for obj in objs:
            self._emit_display(_mimebundle(obj))

    def _emit_display(self, data):
        if self._captures:
            self._captures[-1].outputs.append(data)
            return
        if self._current is not None:
            self._current["outputs"].append({"output_type": "display_data", "data": data, "metadata": {}})
        out = self._real("stdout")
        out.write(data.get("text/plain", "") + "\n")
        out.flush()

    def _patch_pyplot(self):
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None or getattr(plt.show, "_datainsight_step", None) is self:
            return
        step = self

        # Like IPython's inline backend, plt.show() puts the figures in the
        # cell's output and closes them (Agg's own show() only warns). A
        # plain function: pyplot sets attributes on its show().
        def show(*args, **kwargs):
            step._capture_figures()

        show._datainsight_step = self
        plt.show = show

    def _capture_figures(self):
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None:
            return
        try:
            nums = plt.get_fignums()
        except Exception:
            return
        import base64
        for num in nums:
            fig = plt.figure(num)
            buf = io.BytesIO()
            try:
                fig.savefig(buf, format="png", bbox_inches="tight")
            except Exception as e:
                self._real("stderr").write("datainsight: cannot render figure %s: %s\n" % (num, _one_line(e)))
                continue
            data = {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"), "text/plain": _plain_text(fig)}
            if self._captures:
                self._captures[-1].outputs.append(data)
            elif self._current is not None:
                self._current["outputs"].append({"output_type": "display_data", "data": data, "metadata": {}})
        plt.close("all")

    def _eval(self, code, namespace):
        result = eval(code, namespace)
        if code.co_flags & _CO_COROUTINE:  # top-level await, as IPython allows
            if self._loop is None:
                import asyncio
                self._loop = asyncio.new_event_loop()
            result = self._loop.run_until_complete(result)
        return result

    def run_cell(self, index, source, namespace, role=None, original=None):
        """Run a notebook cell's source in namespace, like IPython would.

        original, when given, is the cell as written in the notebook (with
        `!cmd` and magics); the report and tracebacks show it, the runtime
        executes source. Both must have the same lines. Returns True when
        the cell ran without an exception.
        """
        if self._worker:
            if role in ("imports", "functions"):
                exec(compile(source, "<cell %d>" % index, "exec"), namespace)
            return True
        shown = source if original is None else original
        cell = {"id": "c%d-%d" % (len(self._cells) + 1, index), "cell_type": "code", "execution_count": None,
                "metadata": {"datainsight": {"cell": index}}, "source": shown, "outputs": [], "_sizes": {}}
        if role:
            cell["metadata"]["datainsight"]["role"] = role
        self._cells.append(cell)
        if self.failed:
            cell["metadata"]["datainsight"]["skipped"] = True
            return False
        self._loaded_groups.clear()
        self._bind_inherited(namespace)
        self._last_cell = index if self._last_cell is None else max(self._last_cell, index)
        self._begin()
        self._install_streams()
        namespace.setdefault("display", self.display)
        filename = "<cell %d>" % index
        # Tracebacks, warnings and pdb read cell lines through linecache.
        linecache.cache[filename] = (len(shown), None, shown.splitlines(True), filename)
        self._exec_count += 1
        cell["execution_count"] = self._exec_count
        before = {k: id(v) for k, v in namespace.items()} if role in ("imports", "functions") else None
        self._current = cell
        started = time.perf_counter()
        ok = True
        try:
            self._patch_pyplot()
            flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
            tree = compile(source, filename, "exec", ast.PyCF_ONLY_AST | flags, dont_inherit=True)
            last = None
            if tree.body and isinstance(tree.body[-1], ast.Expr) and not _ends_with_semicolon(source, tree.body[-1]):
                last = tree.body.pop()
            self._eval(compile(tree, filename, "exec", flags, dont_inherit=True), namespace)
            if last is not None:
                value = self._eval(compile(ast.Expression(last.value), filename, "eval", flags, dont_inherit=True),
                                   namespace)
                if value is not None:
                    data = _mimebundle(value)
                    cell["outputs"].append({"output_type": "execute_result", "execution_count": self._exec_count,
                                            "data": data, "metadata": {}})
                    out = self._real("stdout")
                    out.write(data["text/plain"] + "\n")
                    out.flush()
        except BaseException as e:  # KeyboardInterrupt too: the report says where the step stopped
            ok = False
            lines = _format_exception(e)
            cell["outputs"].append({"output_type": "error", "ename": type(e).__name__,
                                    "evalue": _safe_str(e), "traceback": lines})
            err = self._real("stderr")
            err.write("\n".join(lines) + "\n")
            err.flush()
            self._errors.append("cell %d failed: %s: %s" % (index, type(e).__name__, _one_line(e)))
            self._exit_code = EXIT_CELL_FAILED
        finally:
            try:
                self._patch_pyplot()
                self._capture_figures()
            finally:
                self._current = None
            cell["metadata"]["datainsight"]["duration_s"] = round(time.perf_counter() - started, 6)
        fn = namespace.get("display")
        if fn is not self.display and getattr(fn, "__module__", "").startswith("IPython."):
            # IPython's display() without a running kernel only prints.
            namespace["display"] = self.display
        if before is not None:
            for k, v in namespace.items():
                if before.get(k) != id(v) and isinstance(v, (type, types.FunctionType)) and _from_main(v):
                    self._shared.add(k)
        if not ok and self._exit_on_error and not self._atexit:
            import atexit
            atexit.register(self._exit_unfinished)
            self._atexit = True
        return ok

    # -- saving -------------------------------------------------------------

    def save(self, namespace, outputs):
        """Save namespace[name] for each name -> defining cell in outputs, then the manifest.

        Values that share objects (combine = [train_df, test_df] and
        train_df) are saved together (save_group), so that they share them
        again where they are loaded.
        """
        if self.failed or self._worker:
            return
        self._begin()
        self._loaded_groups.clear()
        # The namespace is no value's data (dill stores it by reference).
        sharing = _Sharing(exclude=(namespace,))
        ctx = _Context(self._shared, namespace, sharing)
        errors = []
        todo = []
        for name, cell in outputs.items():
            if name in RNG_STATES:
                # A global generator's state, not a name of the namespace.
                try:
                    state = rng_state(name)
                except Exception as e:
                    errors.append(MarshalError("cannot save %r: %s: %s" % (name, type(e).__name__, _one_line(e))))
                    continue
                self._save_one(name, state, cell, ctx, errors)
                continue
            if not isinstance(name, str) or not name.isidentifier():
                errors.append(MarshalError("cannot save %r: not a Python name" % (name,)))
                continue
            if name not in namespace:
                where = " (expected from cell %s)" % cell if cell is not None else ""
                errors.append(MarshalError("cannot save %r%s: it is not defined at the end of step %r"
                                           % (name, where, self.name)))
                continue
            todo.append((_pickling_rank(namespace[name], ctx), len(todo), name, cell))
        # Containers first: once they are written, what they reach is known,
        # and a frame or array one of them holds is not written alone only to
        # be written again with it.
        todo.sort()
        deferred = {}
        for _, _, name, cell in todo:
            value = namespace[name]
            sharing.begin(name)
            sharing.reached(value)
            if sharing.joined(name):
                deferred[name] = cell  # an earlier value reaches it: saved with that value below
                continue
            self._save_one(name, value, cell, ctx, errors)
        sharing.current = None
        if not errors:
            cells = {name: cell for _, _, name, cell in todo}
            for names in sharing.groups():
                self._save_group(namespace, names, cells, ctx, deferred, errors)
        if errors:
            if not self._exit_on_error:
                raise errors[0]
            for e in errors:
                self._fail(EXIT_MARSHAL_FAILED, e)
            return
        meta = {"step": self.name, "run": self.run_id, "notebook": self.notebook,
                "python": "%d.%d.%d" % sys.version_info[:3],
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "modules": self._module_bindings(namespace), "last_cell": self._last_cell}
        groups = {}
        for name, entry in self._entries.items():
            if entry.get("group"):
                groups.setdefault(entry["group"], []).append(name)
        if groups:
            meta["groups"] = {g: sorted(ns) for g, ns in groups.items()}
        try:
            if os.environ.get(ENV_ARTIFACTS, "") not in ("", "0"):
                _link_artifacts(self.dir, self._entries)
            _fsync_dir(self.dir)  # every value's rename is durable before the manifest names it
            _write_manifest(self.dir, self._entries, meta)
        except OSError as e:
            self._fail(EXIT_MARSHAL_FAILED, MarshalError("cannot write the manifest of step %r: %s" % (self.name, e)))

    def _save_one(self, name, value, cell, ctx, errors):
        started = time.perf_counter()
        try:
            entry = save_value(self.dir, name, value, cell=cell, context=ctx, sync_dir=False)
        except MarshalError as e:
            errors.append(e)
            return
        except OSError as e:
            errors.append(MarshalError("cannot save %r (%s): %s" % (name, _type_label(value), e)))
            return
        self._entries[name] = entry
        self._log("saved %s (%s, %s, %.2f s)" % (name, entry["format"], _human(entry["size"]),
                                                 time.perf_counter() - started))

    def _save_group(self, namespace, names, cells, ctx, deferred, errors):
        started = time.perf_counter()
        alone = [n for n in names if n in self._entries]
        try:
            entries = save_group(self.dir, {n: namespace[n] for n in names}, cells, ctx,
                                 formats={self._entries[n]["format"] for n in alone}, sync_dir=False)
        except (MarshalError, OSError) as e:
            # Each is then saved alone, as it would be without the others:
            # a step loading several gets copies, which is what it got
            # before values were grouped.
            self._log("values %s share objects but cannot be saved together (%s); each is saved alone, so a "
                      "step that loads several of them gets copies" % (", ".join(names), _one_line(e)))
            for n in names:
                if n in deferred:
                    self._save_one(n, namespace[n], deferred[n], ctx, errors)
            return
        for n in alone:
            try:
                os.unlink(os.path.join(self.dir, self._entries[n]["file"]))
            except OSError:
                pass
        self._entries.update(entries)
        entry = entries[names[0]]
        self._log("saved %s together, as they share objects (%s, %s, %.2f s)" % (
            ", ".join(names), entry["format"], _human(entry["size"]), time.perf_counter() - started))

    def metrics(self, namespace, names):
        """Record the named values as run metrics (numbers, strings, bools)."""
        if self.failed or self._worker:
            return
        for name in names:
            if name not in namespace:
                self._log("metric %s is not defined; skipped" % name)
                continue
            value, ok = _json_scalar(namespace[name])
            if not ok:
                self._log("metric %s is a %s, not a number, string or bool; skipped"
                          % (name, _type_label(namespace[name])))
                continue
            self._metrics = [m for m in self._metrics if m["name"] != name]
            self._metrics.append({"name": name, "value": value})
            self._log("metric %s = %r" % (name, value))

    # -- finishing ----------------------------------------------------------

    def finish(self):
        """Write report.ipynb, report.html and metrics.json; exit with the step's status.

        With exit_on_error=False it returns the status instead of exiting.
        """
        if self._worker:
            return EXIT_OK
        self._finished = True
        code = self._exit_code
        try:
            self._write_reports()
        except OSError as e:
            self._real("stderr").write("datainsight: step %s: cannot write its report: %s\n" % (self.name, e))
            code = code or EXIT_MARSHAL_FAILED
        self._uninstall_streams()
        if self._loop is not None:
            self._loop.close()
            self._loop = None
        took = time.time() - self._started
        if code == EXIT_OK:
            self._log("step %s succeeded in %.1f s" % (self.name, took))
        else:
            self._log("step %s failed in %.1f s: %s" % (self.name, took, "; ".join(self._errors) or "exit %d" % code))
        sys.stdout.flush()
        sys.stderr.flush()
        if self._exit_on_error:
            sys.exit(code)
        return code

    def _notebook_doc(self):
        cells = []
        status = "succeeded" if not self.failed else "failed"
        summary = "**Step `%s`** of `%s`, run `%s`: %s." % (self.name, self.notebook or "?", self.run_id, status)
        if self._errors:
            summary += "\n\n```\n" + "\n".join(self._errors) + "\n```"
        cells.append({"id": "summary", "cell_type": "markdown", "metadata": {}, "source": summary})
        for c in self._cells:
            cells.append({k: v for k, v in c.items() if not k.startswith("_")})
        return {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                "language_info": {"name": "python", "version": "%d.%d.%d" % sys.version_info[:3]},
                "datainsight": {
                    "step": self.name, "notebook": self.notebook, "run": self.run_id, "status": status,
                    "exit_code": self._exit_code, "errors": self._errors, "parameters": self._params,
                    "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._started)),
                    "duration_s": round(time.time() - self._started, 3),
                },
            },
            "cells": cells,
        }

    def _write_reports(self):
        self._begun = True  # nothing of this attempt may be deleted any more
        os.makedirs(self.dir, exist_ok=True)
        doc = self._notebook_doc()
        data = json.dumps(doc, indent=1, ensure_ascii=False, default=repr).encode("utf-8")
        _write_file_atomic(os.path.join(self.dir, REPORT_IPYNB), data)
        _write_file_atomic(os.path.join(self.dir, REPORT_HTML), _render_html(doc).encode("utf-8"))
        metrics = json.dumps({"metrics": self._metrics}, indent=1).encode("utf-8")
        _write_file_atomic(os.path.join(self.dir, METRICS), metrics)
        if self._reads is not None:
            reads = json.dumps(self._reads.record(), indent=1).encode("utf-8")
            _write_file_atomic(os.path.join(self.dir, READS), reads)


def _safe_str(e):
    try:
        return str(e)
    except Exception:
        return "<unprintable %s>" % type(e).__name__


def _human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0
    return str(n)


# ---------------------------------------------------------------------------
# HTML report

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222}
.cell{margin:1em 0;border-left:3px solid #ccc;padding-left:.8em}
.cell.failed{border-color:#c33}.cell.skipped{opacity:.5}
.prompt{font:12px monospace;color:#666}
pre{background:#f6f6f6;padding:.5em;overflow-x:auto;white-space:pre-wrap;margin:.3em 0}
pre.stderr{background:#fff3e0}pre.error{background:#fde8e8}
iframe{width:100%;border:1px solid #ddd}
img{max-width:100%}
"""


def _render_output(out):
    import html
    kind = out["output_type"]
    if kind == "stream":
        return '<pre class="%s">%s</pre>' % (out["name"], html.escape(out["text"]))
    if kind == "error":
        return '<pre class="error">%s</pre>' % html.escape("\n".join(out["traceback"]))
    data = out.get("data", {})
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            return '<img src="data:%s;base64,%s">' % (mime, html.escape("".join(data[mime]).replace("\n", "")))
    if "image/svg+xml" in data:
        import base64
        svg = base64.b64encode("".join(data["image/svg+xml"]).encode("utf-8")).decode("ascii")
        return '<img src="data:image/svg+xml;base64,%s">' % svg  # <img> never runs an SVG's scripts
    if "text/html" in data:
        body = "".join(data["text/html"])
        height = min(600, 40 + 24 * body.count("<tr") + 18 * body.count("<br") + 18 * body.count("<p"))
        # Notebook HTML runs in a sandbox without scripts: the report is
        # served from the sidecar's origin.
        return '<iframe sandbox="" style="height:%dpx" srcdoc="%s"></iframe>' % (height, html.escape(body, quote=True))
    return "<pre>%s</pre>" % html.escape("".join(data.get("text/plain", "")))


def _render_html(doc):
    import html
    meta = doc["metadata"]["datainsight"]
    parts = ["<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">",
             "<title>%s</title>" % html.escape("step %s — %s" % (meta["step"], meta["status"])),
             "<style>%s</style></head><body>" % _CSS,
             "<h1>Step %s</h1>" % html.escape(meta["step"]),
             "<p>notebook %s · run %s · <b>%s</b> · %.1f s</p>" % (
                 html.escape(str(meta["notebook"])), html.escape(meta["run"]), html.escape(meta["status"]),
                 meta["duration_s"])]
    if meta["errors"]:
        parts.append('<pre class="error">%s</pre>' % html.escape("\n".join(meta["errors"])))
    if meta["parameters"]:
        parts.append("<pre>%s</pre>" % html.escape("\n".join("%s = %r" % kv for kv in meta["parameters"].items())))
    for cell in doc["cells"]:
        if cell["cell_type"] != "code":
            continue
        info = cell["metadata"]["datainsight"]
        classes = ["cell"]
        if info.get("skipped"):
            classes.append("skipped")
        if any(o["output_type"] == "error" for o in cell["outputs"]):
            classes.append("failed")
        prompt = "[%s] cell %d" % (cell["execution_count"] if cell["execution_count"] is not None else " ",
                                    info["cell"])
        if info.get("role"):
            prompt += " (%s)" % info["role"]
        if info.get("skipped"):
            prompt += " — not run"
        parts.append('<div class="%s"><div class="prompt">%s</div><pre class="source">%s</pre>' % (
            " ".join(classes), html.escape(prompt), html.escape(cell["source"])))
        parts.extend(_render_output(o) for o in cell["outputs"])
        parts.append("</div>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
