"""Tests of datainsight_runtime; run with `python3 -m unittest test_runtime`.

The runtime is imported from $DATAINSIGHT_RUNTIME_DIR, else from this file's
directory. Tests that need an optional library (numpy, pandas, torch,
xgboost, sklearn, pyarrow, IPython, nbformat, matplotlib) skip, with the
reason, only when that library is not importable.
"""

import contextlib
import hashlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest
import unittest.mock

RUNTIME_DIR = os.environ.get("DATAINSIGHT_RUNTIME_DIR") or os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, RUNTIME_DIR)

import datainsight_runtime as di  # noqa: E402


def have(module):
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


# Libraries CI cannot install: Debian 12 packages neither, and there is no
# PyPI here. Their tests skip, saying so; every other missing library
# fails the test where DATAINSIGHT_REQUIRE_TOOLS is set (make test, CI),
# since hack/install-deps.sh installs it.
NOT_INSTALLABLE = {"pyarrow", "keras"}


def need(module):
    if have(module):
        return lambda test: test
    reason = "%s is not importable by %s" % (module, sys.executable)
    if os.environ.get("DATAINSIGHT_REQUIRE_TOOLS") and module not in NOT_INSTALLABLE:
        def fail(test):
            def failing(self):
                self.fail(reason + " (DATAINSIGHT_REQUIRE_TOOLS is set: hack/install-deps.sh installs it)")
            return failing
        return fail
    return unittest.skip(reason)


def sha256_file(path):
    with open(path, "rb") as f:
        return "sha256:" + hashlib.sha256(f.read()).hexdigest()


class Tagged:
    tags = []  # a class attribute that every instance's state names

    def __init__(self, v):
        self.v = v
        self.tags = Tagged.tags


def main_ns(**values):
    """A namespace like a step script's globals: code run in it belongs to __main__."""
    ns = {"__name__": "__main__", "_di": di}
    ns.update(values)
    return ns


class TempRoot(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="di-rt-")
        self.root = os.path.join(self.tmp, "marshal")
        self.steps = []

    def tearDown(self):
        # Last first: a step that ran cells after another wraps that one's streams.
        for step in reversed(self.steps):
            step._uninstall_streams()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def step(self, name="s", **kw):
        kw.setdefault("exit_on_error", False)
        step = di.Step(name, notebook="nb.ipynb", root=self.root, run_id="run1", **kw)
        self.steps.append(step)
        return step

    def roundtrip(self, value, name="v"):
        """Save value in a producer step, load it in a consumer; returns (loaded, entry)."""
        prod = self.step("prod")
        prod.save(main_ns(**{name: value}), {name: 3})
        manifest = di.read_manifest(prod.dir)
        entry = manifest["values"][name]
        path = os.path.join(prod.dir, entry["file"])
        self.assertEqual(entry["size"], os.path.getsize(path))
        self.assertEqual(entry["checksum"], sha256_file(path))
        self.assertEqual(entry["cell"], 3)
        self.assertEqual(entry["type"], "%s.%s" % (type(value).__module__, type(value).__qualname__))
        self.assertTrue(entry["file"].startswith(name + "."))
        return self.step("cons").load(name, "prod"), entry

    def script(self, name, body, env=None, runtime_dir=None):
        """Run a generated-style step script in its own python3 process."""
        path = os.path.join(self.tmp, name + ".py")
        with open(path, "w") as f:
            f.write("import sys, os\nsys.path.insert(0, %r)\nimport datainsight_runtime as _di\n"
                    % (runtime_dir or RUNTIME_DIR))
            f.write(textwrap.dedent(body))
        e = dict(os.environ, DATAINSIGHT_MARSHAL_ROOT=self.root, DATAINSIGHT_RUN_ID="run1")
        e.pop("DATAINSIGHT_VERIFY", None)
        e.update(env or {})
        return subprocess.run([sys.executable, path], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=120)

    def report(self, step):
        with open(os.path.join(self.root, "run1", step, "report.ipynb")) as f:
            return json.load(f)


class RoundTripTest(TempRoot):
    def test_builtins_use_pickle(self):
        for value in (42, "text", None, 3.5, b"\x00bytes", [1, (2, 3)], {"a": {1, 2}}, True):
            with self.subTest(value=value):
                got, entry = self.roundtrip(value)
                self.assertEqual(got, value)
                self.assertEqual(entry["format"], "pickle")
                self.assertEqual(entry["file"], "v.pkl")

    def test_large_bytes_through_pickle(self):
        value = {"blob": os.urandom(3 << 20) * 3, "tail": b"x"}  # exercises the chunked, hashed path
        got, entry = self.roundtrip(value)
        self.assertEqual(got, value)

    @need("numpy")
    def test_numpy_arrays_use_npy(self):
        import numpy as np
        base = np.arange(24, dtype=np.float64).reshape(4, 6)
        cases = {
            "c_order": base,
            "fortran": np.asfortranarray(base),
            "strided": base[::2, ::3],
            "zero_d": np.array(7.5),
            "empty": np.zeros((0, 3), dtype=np.int32),
            "bools": np.array([True, False, True]),
            "dates": np.array(["2024-01-01", "2024-02-03"], dtype="datetime64[D]"),
            "structured": np.array([(1, 2.5), (3, 4.5)], dtype=[("a", "<i4"), ("b", ">f8")]),
            "big_endian": np.arange(5, dtype=">i8"),
        }
        for label, arr in cases.items():
            with self.subTest(label):
                got, entry = self.roundtrip(arr)
                self.assertEqual(entry["format"], "npy")
                self.assertEqual(got.dtype, arr.dtype)
                self.assertEqual(got.shape, arr.shape)
                self.assertTrue(np.array_equal(got, arr))
                self.assertIs(type(got), np.ndarray)
                # The file is a plain .npy that numpy itself reads without pickle.
                path = os.path.join(self.root, "run1", "prod", entry["file"])
                self.assertTrue(np.array_equal(np.load(path, allow_pickle=False), arr))

    @need("numpy")
    def test_large_array_chunks_and_checksum(self):
        import numpy as np
        arr = np.random.default_rng(1).random((5 << 20) // 8 * 9)  # > 2 chunks, not chunk-aligned
        got, entry = self.roundtrip(arr)
        self.assertTrue(np.array_equal(got, arr))
        strided = arr[::3]
        got, _ = self.roundtrip(strided)
        self.assertTrue(np.array_equal(got, strided))

    @need("numpy")
    def test_object_array_falls_back_to_pickle(self):
        import numpy as np
        arr = np.array([{"a": 1}, None, "x"], dtype=object)
        got, entry = self.roundtrip(arr)
        self.assertEqual(entry["format"], "pickle")
        self.assertEqual(list(got), list(arr))

    @need("numpy")
    def test_loaded_array_is_saved_again_as_npy(self):
        import numpy as np
        first, _ = self.roundtrip(np.arange(10.0))
        first *= 2  # a downstream step changes its copy and passes it on
        prod = self.step("again")
        prod.save(main_ns(v=first), {"v": 1})
        got = self.step("cons2").load("v", "again")
        self.assertTrue(np.array_equal(got, np.arange(10.0) * 2))

    @need("numpy")
    def test_mmap_copy_on_write_isolation(self):
        import numpy as np
        arr = np.arange(100000, dtype=np.int64)
        got, entry = self.roundtrip(arr)
        path = os.path.join(self.root, "run1", "prod", entry["file"])
        before = sha256_file(path)
        self.assertTrue(got.flags.writeable)
        self.assertIsInstance(got.base, np.memmap)  # mapped, not read into memory
        got[:] = -1
        got[5] = 12345
        self.assertEqual(sha256_file(path), before, "the loader's in-place change reached the producer's file")
        again = self.step("other").load("v", "prod")
        self.assertTrue(np.array_equal(again, arr))

    @need("pandas")
    def test_pandas(self):
        import pandas as pd
        df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None], "c": pd.to_datetime(["2024-01-01"] * 3)})
        series = pd.Series([1.5, 2.5], name="s", index=["p", "q"])
        unnamed = pd.DataFrame([[1, 2]])  # integer column names: not parquet-able
        want = "parquet" if have("pyarrow") else "pickle"
        for label, value, fmt in (("frame", df, want), ("series", series, want), ("int_columns", unnamed, "pickle")):
            with self.subTest(label):
                got, entry = self.roundtrip(value)
                self.assertEqual(entry["format"], fmt)
                if isinstance(value, pd.Series):
                    pd.testing.assert_series_equal(got, value)
                else:
                    pd.testing.assert_frame_equal(got, value)

    @need("pyarrow")
    def test_pandas_parquet_file(self):
        import pandas as pd
        df = pd.DataFrame({"a": [1, 2]})
        _, entry = self.roundtrip(df)
        self.assertEqual(entry["file"], "v.parquet")

    @need("torch")
    def test_torch(self):
        import torch
        t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
        got, entry = self.roundtrip(t)
        self.assertEqual(entry["format"], "torch")
        self.assertTrue(torch.equal(got, t))
        net = torch.nn.Linear(4, 2)
        got, entry = self.roundtrip(net)
        self.assertEqual(entry["format"], "torch")
        self.assertTrue(torch.equal(got(t), net(t)))

    @need("torch")
    def test_torch_module_defined_in_notebook_uses_dill(self):
        ns = main_ns()
        exec("import torch\nclass Net(torch.nn.Module):\n"
             "    def __init__(self):\n        super().__init__()\n        self.l = torch.nn.Linear(2, 1)\n"
             "    def forward(self, x):\n        return self.l(x) * 2\nnet = Net()\n", ns)
        got, entry = self.roundtrip(ns["net"])
        self.assertEqual(entry["format"], "dill")
        import torch
        x = torch.ones(1, 2)
        self.assertTrue(torch.equal(got(x), ns["net"](x)))

    @need("sklearn")
    def test_sklearn_uses_joblib(self):
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        X = np.array([[0.0], [1.0], [2.0], [3.0]])
        y = np.array([0, 0, 1, 1])
        model = LogisticRegression().fit(X, y)
        got, entry = self.roundtrip(model)
        self.assertEqual(entry["format"], "joblib")
        self.assertTrue(np.array_equal(got.predict(X), model.predict(X)))

    @need("sklearn")
    def test_sklearn_pipeline_with_notebook_transformer_uses_dill(self):
        ns = main_ns()
        exec("from sklearn.base import BaseEstimator, TransformerMixin\n"
             "from sklearn.pipeline import Pipeline\nfrom sklearn.linear_model import LinearRegression\n"
             "class Double(BaseEstimator, TransformerMixin):\n"
             "    def fit(self, X, y=None): return self\n"
             "    def transform(self, X): return X * 2\n"
             "import numpy as np\n"
             "pipe = Pipeline([('d', Double()), ('lr', LinearRegression())]).fit(np.array([[1.0], [2.0]]), [1.0, 2.0])\n", ns)
        got, entry = self.roundtrip(ns["pipe"])
        self.assertEqual(entry["format"], "dill")
        import numpy as np
        self.assertAlmostEqual(float(got.predict(np.array([[3.0]]))[0]), 3.0)

    @need("xgboost")
    def test_xgboost(self):
        import numpy as np
        import xgboost as xgb
        X = np.random.default_rng(0).random((40, 3))
        y = (X[:, 0] > 0.5).astype(int)
        booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, label=y), num_boost_round=3)
        got, entry = self.roundtrip(booster)
        self.assertEqual((entry["format"], entry["file"]), ("xgboost", "v.ubj"))
        self.assertTrue(np.allclose(got.predict(xgb.DMatrix(X)), booster.predict(xgb.DMatrix(X))))
        clf = xgb.XGBClassifier(n_estimators=3).fit(X, y)
        got, entry = self.roundtrip(clf)
        self.assertEqual(entry["format"], "xgboost")
        self.assertIsInstance(got, xgb.XGBClassifier)
        self.assertTrue(np.array_equal(got.predict(X), clf.predict(X)))
        unfitted, entry = self.roundtrip(xgb.XGBClassifier())
        self.assertEqual(entry["format"], "pickle")  # save_model refuses an unfitted model
        self.assertIn("xgboost refused it", entry["fallback"])

    @need("xgboost")
    def test_xgboost_dmatrix(self):
        # A DMatrix wraps a C handle: pickle refuses it ("ctypes objects
        # containing pointers cannot be pickled").
        import numpy as np
        import pandas as pd
        import xgboost as xgb
        X = np.array([[1.0, np.nan, 0.0], [0.0, 2.0, 3.0], [4.0, 5.0, np.nan], [7.0, 8.0, 9.0]])
        dense = xgb.DMatrix(X, label=[0, 1, 0, 1], weight=[1, 2, 3, 4], base_margin=[0.1, 0.2, 0.3, 0.4],
                            feature_names=["a", "b", "c"])
        dense.set_group([1, 3])
        missing0 = xgb.DMatrix(X, label=[1, 0, 1, 0], missing=0.0)
        categorical = xgb.DMatrix(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": pd.Categorical(list("abac"))}),
                                  label=[0, 1, 0, 1], enable_categorical=True)
        survival = xgb.DMatrix(X)
        survival.set_float_info("label_lower_bound", [1, 2, 3, 4])
        survival.set_float_info("label_upper_bound", [2, 3, np.inf, 5])
        infos = ("label", "weight", "base_margin", "label_lower_bound", "label_upper_bound")
        for what, d in (("dense", dense), ("missing0", missing0), ("categorical", categorical),
                        ("survival", survival), ("empty", xgb.DMatrix(np.empty((0, 3))))):
            with self.subTest(what):
                got, entry = self.roundtrip(d)
                self.assertEqual((entry["format"], entry["file"]), ("dmatrix", "v.dmatrix"))
                self.assertIsInstance(got, xgb.DMatrix)
                self.assertEqual((got.num_row(), got.num_col()), (d.num_row(), d.num_col()))
                self.assertEqual((got.feature_names, got.feature_types), (d.feature_names, d.feature_types))
                for info in infos:
                    self.assertTrue(np.array_equal(got.get_float_info(info), d.get_float_info(info)), info)
                self.assertTrue(np.array_equal(got.get_uint_info("group_ptr"), d.get_uint_info("group_ptr")))
                if d.num_row():
                    self.assertEqual((got.get_data() != d.get_data()).nnz, 0)
        booster = xgb.train({"tree_method": "hist"}, categorical, num_boost_round=2)
        got, _ = self.roundtrip(categorical)
        self.assertTrue(np.array_equal(booster.predict(got), booster.predict(categorical)))

    @need("xgboost")
    def test_xgboost_dmatrix_under_a_uri_like_path(self):
        # xgboost reads the name it loads as a URI ("#" starts a cache
        # prefix, "?" arguments); a marshal root may contain either.
        import numpy as np
        import xgboost as xgb
        self.root = os.path.join(self.tmp, "runs#1?x=2")
        got, _ = self.roundtrip(xgb.DMatrix(np.ones((3, 2)), label=[0, 1, 0]))
        self.assertEqual(got.num_row(), 3)
        self.assertTrue(np.array_equal(got.get_label(), [0, 1, 0]))

    @need("torch")
    def test_torchscript(self):
        # torch.save refuses a scripted module ("does not have a __getstate__
        # method defined"): it has its own format.
        import torch
        scripted = torch.jit.script(torch.nn.Linear(4, 2))
        got, entry = self.roundtrip(scripted)
        self.assertEqual((entry["format"], entry["file"]), ("torchscript", "v.torchscript"))
        self.assertIsInstance(got, torch.jit.ScriptModule)
        x = torch.ones(3, 4)
        self.assertTrue(torch.equal(got(x), scripted(x)))

    @need("keras")
    def test_keras(self):
        import keras
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        got, entry = self.roundtrip(model)
        self.assertEqual((entry["format"], entry["file"]), ("keras", "v.keras"))

    @need("dill")
    def test_notebook_function_class_instance_use_dill(self):
        ns = main_ns()
        exec("def add(a, b):\n    return a + b\nsquare = lambda x: x * x\n"
             "class Point:\n    def __init__(self, x): self.x = x\n    def norm(self): return abs(self.x)\n"
             "p = Point(-3)\nnested = {'points': [Point(1)]}\n", ns)
        for name, check in (("add", lambda f: f(2, 3) == 5), ("square", lambda f: f(4) == 16),
                            ("Point", lambda c: c(-2).norm() == 2), ("p", lambda o: o.norm() == 3),
                            ("nested", lambda d: d["points"][0].x == 1)):
            with self.subTest(name):
                prod = self.step("p_" + name.lower())
                prod.save(ns, {name: 2})
                entry = di.read_manifest(prod.dir)["values"][name]
                self.assertEqual(entry["format"], "dill")
                got = self.step("c_" + name.lower()).load(name, "p_" + name.lower())
                self.assertTrue(check(got))


class AtomicityTest(TempRoot):
    KILLER = """
        import signal
        _real_fsync = os.fsync
        def _fsync(fd):
            # Die exactly between writing a file and renaming it into place.
            target = os.readlink("/proc/self/fd/%d" % fd)
            if os.path.basename(target).startswith(".tmp-") and target.endswith({suffix!r}):
                os.kill(os.getpid(), signal.SIGKILL)
            _real_fsync(fd)
        os.fsync = _fsync
    """
    PRODUCER = """
        _di_step = _di.Step("prod")
        _di_step.run_cell(1, "data = list(range(100000))\\nsmall = 1\\n", globals())
        _di_step.save(globals(), {{"small": 1, "data": 1}})
        _di_step.finish()
    """
    CONSUMER = """
        _di_step = _di.Step("cons")
        data = _di_step.load("data", "prod")
        _di_step.run_cell(2, "print(len(data))\\n", globals())
        _di_step.finish()
    """

    def prod_dir(self):
        return os.path.join(self.root, "run1", "prod")

    @unittest.skipUnless(os.path.isdir("/proc/self/fd"), "needs /proc to find the file being fsynced")
    def test_killed_while_writing_a_value(self):
        r = self.script("prod", self.KILLER.format(suffix="data.pkl") + self.PRODUCER.format())
        self.assertEqual(r.returncode, -9, r.stderr)
        names = os.listdir(self.prod_dir())
        self.assertIn("small.pkl", names)  # the value before it was committed whole
        self.assertNotIn("data.pkl", names)
        self.assertNotIn("manifest.json", names)
        self.assertTrue(any(n.startswith(".tmp-") and n.endswith("data.pkl") for n in names), names)
        r = self.script("cons", self.CONSUMER)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("cannot load 'data' from step 'prod'", r.stderr)
        self.assertIn("did not finish saving its outputs", r.stderr)
        # The retry succeeds, cleans up the dead attempt's temporary file, and
        # only then does the consumer see the value.
        r = self.script("prod", self.PRODUCER.format())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse([n for n in os.listdir(self.prod_dir()) if n.startswith(".tmp-")])
        r = self.script("cons", self.CONSUMER)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "100000")

    @unittest.skipUnless(os.path.isdir("/proc/self/fd"), "needs /proc to find the file being fsynced")
    def test_manifest_is_written_last(self):
        r = self.script("prod", self.KILLER.format(suffix="manifest.json") + self.PRODUCER.format())
        self.assertEqual(r.returncode, -9, r.stderr)
        names = os.listdir(self.prod_dir())
        self.assertIn("data.pkl", names)
        self.assertIn("small.pkl", names)
        self.assertNotIn("manifest.json", names)
        r = self.script("cons", self.CONSUMER)
        self.assertEqual(r.returncode, 2)

    def test_rerun_removes_the_old_manifest_first(self):
        self.assertEqual(self.script("prod", self.PRODUCER.format()).returncode, 0)
        r = self.script("prod", """
            _di_step = _di.Step("prod")
            _di_step.run_cell(1, "raise SystemExit('boom')\\n", globals())
            _di_step.save(globals(), {"data": 1})
            _di_step.finish()
        """)
        self.assertEqual(r.returncode, 1, r.stderr)
        # A failed re-run must not leave the previous attempt's manifest
        # describing files that may have been replaced, nor its values.
        self.assertFalse(os.path.exists(os.path.join(self.prod_dir(), "manifest.json")))
        self.assertFalse(os.path.exists(os.path.join(self.prod_dir(), "data.pkl")))

    def test_rerun_keeps_files_it_does_not_own(self):
        self.assertEqual(self.script("prod", self.PRODUCER.format()).returncode, 0)
        foreign = os.path.join(self.prod_dir(), "stdout.log")  # e.g. a backend's log
        with open(foreign, "w") as f:
            f.write("log\n")
        self.assertEqual(self.script("prod", self.PRODUCER.format()).returncode, 0)
        self.assertTrue(os.path.exists(foreign))

    def test_atomic_file_abort_leaves_nothing(self):
        os.makedirs(self.tmp, exist_ok=True)
        path = os.path.join(self.tmp, "x.bin")
        f = di._AtomicFile(path)
        f.write(b"a" * (3 << 20))
        f.abort()
        self.assertEqual(os.listdir(self.tmp), [])
        f = di._AtomicFile(path)
        f.write(b"abc")
        f.write(memoryview(b"d" * (2 << 20)))
        size, checksum = f.commit()
        self.assertEqual(size, 3 + (2 << 20))
        self.assertEqual(checksum, sha256_file(path))
        self.assertEqual(os.listdir(self.tmp), ["x.bin"])


class LazyImportTest(TempRoot):
    def test_int_roundtrip_imports_no_heavy_module(self):
        code = textwrap.dedent("""
            import sys, json
            sys.path.insert(0, %r)
            import datainsight_runtime as di
            a = di.Step("a", root=%r, run_id="r", exit_on_error=False)
            ns = {"__name__": "__main__"}
            a.run_cell(1, "x = 41 + 1\\nx\\n", ns)
            a.save(ns, {"x": 1})
            a.metrics(ns, ["x"])
            assert a.finish() == 0
            b = di.Step("b", root=%r, run_id="r", exit_on_error=False)
            assert b.load("x", "a") == 42
            heavy = ["numpy", "pandas", "dill", "torch", "joblib", "sklearn", "xgboost", "matplotlib",
                     "IPython", "pyarrow", "ctypes", "asyncio", "subprocess"]
            print(json.dumps([m for m in heavy if m in sys.modules]))
        """) % (RUNTIME_DIR, self.root, self.root)
        r = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout.strip().splitlines()[-1]), [])


class _Refuses(object):
    def __reduce__(self):
        raise TypeError("not today")


class ErrorMessageTest(TempRoot):
    def save_error(self, value, name="v", cell=5):
        with self.assertRaises(di.MarshalError) as cm:
            self.step("prod").save(main_ns(**{name: value}), {name: cell})
        return str(cm.exception)

    def test_generator(self):
        msg = self.save_error((i for i in range(3)), name="gen")
        self.assertEqual(msg, "cannot save 'gen' (generator, defined in cell 5): generators cannot be pickled; "
                              "recompute it in the step that uses it")

    def test_unsavable_inside_containers(self):
        # A generator in a dict fails pickle as one on its own does: the
        # reason says where it is, before any file is written.
        msg = self.save_error({"rows": (i for i in range(3)), "n": 3}, name="data")
        self.assertEqual(msg, "cannot save 'data' (dict, defined in cell 5): it holds a generator at ['rows']: "
                              "generators cannot be pickled; recompute it in the step that uses it")
        with open(__file__) as f:
            msg = self.save_error([1, (2, {"log": f})])
        self.assertIn("it holds a _io.TextIOWrapper at [1][1]['log']: open files cannot be passed", msg)
        d = self.steps[-1].dir
        self.assertEqual([f for f in (os.listdir(d) if os.path.isdir(d) else []) if f.startswith("v.")], [])
        # Cycles end; plain data and numbers past the walk's bound pass.
        loop = {"a": [1, 2]}
        loop["self"] = loop
        self.assertIsNone(di._unsavable_reason(loop))
        self.assertIsNone(di._unsavable_reason(list(range(di._WALK_LIMIT * 3))))
        late = list(range(di._WALK_LIMIT * 2)) + [(i for i in ())]
        self.assertIsNone(di._unsavable_reason(late))  # past the bound: pickle names it at save time

    def test_open_file_lock_module(self):
        import threading
        with open(__file__) as f:
            self.assertIn("cannot save 'v' (_io.TextIOWrapper, defined in cell 5): open files cannot be passed",
                          self.save_error(f))
        self.assertIn("(_thread.lock, defined in cell 5): locks cannot be passed", self.save_error(threading.Lock()))
        self.assertIn("(_thread.RLock, defined in cell 5): locks", self.save_error(threading.RLock()))
        self.assertIn("(module, defined in cell 5): modules are not data", self.save_error(json))

    @need("xgboost")
    def test_quantile_dmatrix(self):
        import numpy as np
        import xgboost as xgb
        if not hasattr(xgb, "QuantileDMatrix"):
            self.skipTest("xgboost %s has no QuantileDMatrix" % xgb.__version__)
        msg = self.save_error(xgb.QuantileDMatrix(np.ones((4, 2)), label=[0, 1, 0, 1]), name="qd")
        self.assertIn("cannot save 'qd' (xgboost.core.QuantileDMatrix, defined in cell 5): a QuantileDMatrix "
                      "keeps only", msg)

    @need("xgboost")
    def test_native_format_refusal_is_part_of_the_reason(self):
        # When a library's own format refuses a value and pickle cannot
        # take it either, both reasons are the user's to read.
        import numpy as np
        import xgboost as xgb
        with unittest.mock.patch.object(xgb.DMatrix, "save_binary", side_effect=RuntimeError("disk says no")):
            msg = self.save_error(xgb.DMatrix(np.ones((2, 2))))
        self.assertIn("pickle failed: ValueError: ctypes objects containing pointers cannot be pickled", msg)
        self.assertIn("(dmatrix refused it: disk says no)", msg)

    def test_nested_unpicklable_names_pickles_reason(self):
        import threading
        msg = self.save_error({"ok": 1, "lock": threading.Lock()}, name="state", cell=7)
        self.assertEqual(msg, "cannot save 'state' (dict, defined in cell 7): it holds a _thread.lock at ['lock']: "
                              "locks cannot be passed between steps; create it in the step that uses it")
        # What only pickle knows it refuses, pickle's own words say.
        msg = self.save_error({"ok": 1, "x": _Refuses()}, name="state", cell=7)
        self.assertIn("cannot save 'state' (dict, defined in cell 7): pickle failed: TypeError: not today", msg)

    def test_all_failures_reported_and_no_manifest(self):
        step = self.step("prod", exit_on_error=True)
        buf = io.StringIO()
        with contextlib.redirect_stderr(buf):
            step.save(main_ns(a=1, g=(i for i in ())), {"a": 1, "g": 2, "missing": 3})
        self.assertEqual(step._exit_code, di.EXIT_MARSHAL_FAILED)
        self.assertIn("cannot save 'g' (generator, defined in cell 2)", buf.getvalue())
        self.assertIn("cannot save 'missing' (expected from cell 3): it is not defined at the end of step 'prod'",
                      buf.getvalue())
        self.assertFalse(os.path.exists(os.path.join(step.dir, "manifest.json")))
        step._finished = True  # no atexit exit from inside the test runner

    def test_notebook_function_without_dill(self):
        r = self.script("nodill", """
            sys.modules["dill"] = None  # as if dill were not installed
            _di_step = _di.Step("prod")
            _di_step.run_cell(2, "f = lambda x: x + 1\\n", globals())
            _di_step.save(globals(), {"f": 2})
            _di_step.finish()
        """)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("cannot save 'f' (function, defined in cell 2):", r.stderr)
        self.assertIn("dill, which is not importable here", r.stderr)

    def test_missing_producer_and_value(self):
        cons = self.step("cons")
        with self.assertRaises(di.MarshalError) as cm:
            cons.load("df", "nowhere")
        msg = str(cm.exception)
        self.assertIn("cannot load 'df' from step 'nowhere'", msg)
        self.assertIn(os.path.join(self.root, "run1", "nowhere", "manifest.json"), msg)
        self.step("prod").save(main_ns(a=1, b=2), {"a": 1, "b": 1})
        with self.assertRaises(di.MarshalError) as cm:
            self.step("cons2").load("df", "prod")
        self.assertEqual(str(cm.exception), "cannot load 'df' from step 'prod': step 'prod' did not save 'df' "
                                            "(it saved: a, b)")

    def test_damaged_file(self):
        prod = self.step("prod")
        prod.save(main_ns(v=list(range(1000))), {"v": 1})
        path = os.path.join(prod.dir, "v.pkl")
        with open(path, "r+b") as f:
            f.seek(20)
            f.write(b"\xff")
        with self.assertRaises(di.MarshalError) as cm:
            di.load_value(prod.dir, "v", verify=True)
        self.assertIn("is damaged: its checksum is", str(cm.exception))
        with open(path, "ab") as f:
            f.write(b"more")
        with self.assertRaises(di.MarshalError) as cm:
            self.step("cons").load("v", "prod")
        self.assertIn("the manifest says", str(cm.exception))

    def test_bad_names(self):
        with self.assertRaises(ValueError) as cm:
            di.Step("Bad-Name", root=self.root, run_id="r")
        self.assertIn("[_a-z][_a-z0-9]*", str(cm.exception))
        with self.assertRaises(ValueError) as cm:
            di.Step("ok", root=self.root, run_id="../x")
        self.assertIn("run id", str(cm.exception))
        env = dict(os.environ)
        env.pop("DATAINSIGHT_MARSHAL_ROOT", None)
        with unittest.mock.patch.dict(os.environ, env, clear=True):
            with self.assertRaises(ValueError) as cm:
                di.Step("ok", run_id="r")
        self.assertIn("DATAINSIGHT_MARSHAL_ROOT", str(cm.exception))

    def test_exit_codes(self):
        cell_fail = self.script("cellfail", """
            _di_step = _di.Step("a")
            _di_step.run_cell(1, "x = 1\\n", globals())
            _di_step.run_cell(2, "y = x / 0\\n", globals())
            _di_step.run_cell(3, "print('never')\\n", globals())
            _di_step.save(globals(), {"x": 1})
            _di_step.finish()
        """)
        self.assertEqual(cell_fail.returncode, 1, cell_fail.stderr)
        self.assertNotIn("never", cell_fail.stdout)
        self.assertIn("ZeroDivisionError", cell_fail.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.root, "run1", "a", "manifest.json")))
        nb = self.report("a")
        self.assertTrue(nb["cells"][-1]["metadata"]["datainsight"]["skipped"])
        marshal_fail = self.script("marshalfail", """
            _di_step = _di.Step("b")
            _di_step.run_cell(5, "gen = (i for i in range(3))\\n", globals())
            _di_step.save(globals(), {"gen": 5})
            _di_step.finish()
        """)
        self.assertEqual(marshal_fail.returncode, 2, marshal_fail.stderr)
        self.assertIn("cannot save 'gen' (generator, defined in cell 5): generators cannot be pickled; "
                      "recompute it in the step that uses it", marshal_fail.stderr)
        self.assertIn("cannot save 'gen'", "\n".join(self.report("b")["metadata"]["datainsight"]["errors"]))
        no_finish = self.script("nofinish", """
            _di_step = _di.Step("c")
            x = _di_step.load("x", "nowhere")
            # the script ends without finish(): the step must fail anyway
        """)
        self.assertEqual(no_finish.returncode, 2, no_finish.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.root, "run1", "c", "report.ipynb")))


class KeptLogTest(TempRoot):
    """DATAINSIGHT_KEEP_LOG: the step's output, from every source, outlives its pod."""

    def log(self, step):
        with open(os.path.join(self.root, "run1", step, "output.log")) as f:
            return f.read()

    def test_every_writer_reaches_the_streams_and_the_file(self):
        r = self.script("kept", """
            _di_step = _di.Step("k")
            _di_step.run_cell(1, "print('from python')\\n", globals())
            _di_step.run_cell(2, "import sys; print('to stderr', file=sys.stderr)\\n", globals())
            _di_step.run_cell(3, "import os; os.write(1, b'raw fd\\\\n')\\n", globals())
            _di_step.run_cell(4, "_di.sh('echo from a child; echo child err >&2')\\n", globals())
            _di_step.finish()
        """, env={"DATAINSIGHT_KEEP_LOG": "1", "PYTHONUNBUFFERED": "1"})
        self.assertEqual(r.returncode, 0, r.stderr)
        for line in ("from python", "raw fd", "from a child"):
            self.assertIn(line, r.stdout)
        for line in ("to stderr", "step k succeeded"):
            self.assertIn(line, r.stderr)
        self.assertIn("child err", r.stdout + r.stderr)  # `!cmd` merges its streams, as IPython's does
        log = self.log("k")
        for line in ("from python", "to stderr", "raw fd", "from a child", "child err", "step k succeeded"):
            self.assertIn(line, log)
        self.assertLess(log.index("from python"), log.index("raw fd"))
        self.assertLess(log.index("raw fd"), log.index("from a child"))
        # The report still has the cell's own output.
        cells = [c for c in self.report("k")["cells"] if c["cell_type"] == "code"]
        self.assertEqual(cells[0]["outputs"][0]["text"], "from python\n")

    def test_an_abrupt_death_keeps_its_last_words(self):
        r = self.script("crash", """
            import os, signal
            _di_step = _di.Step("c")
            print("before the crash", flush=True)
            os.write(2, b"last words\\n")
            os.kill(os.getpid(), signal.SIGKILL)
        """, env={"DATAINSIGHT_KEEP_LOG": "1"})
        self.assertEqual(r.returncode, -9)
        self.assertIn("last words", r.stderr)
        # The copier drains the pipes after the step is gone.
        deadline = __import__("time").monotonic() + 10
        while "last words" not in self.log("c") and __import__("time").monotonic() < deadline:
            __import__("time").sleep(0.01)
        self.assertIn("before the crash", self.log("c"))
        self.assertIn("last words", self.log("c"))

    def test_a_failed_step_keeps_its_traceback_and_a_rerun_starts_afresh(self):
        body = """
            _di_step = _di.Step("f")
            _di_step.run_cell(1, "print('attempt', %d)\\n1/0\\n", globals())
            _di_step.finish()
        """
        first = self.script("fail1", body % 1, env={"DATAINSIGHT_KEEP_LOG": "1"})
        self.assertEqual(first.returncode, 1, first.stderr)
        self.assertIn("ZeroDivisionError", self.log("f"))
        second = self.script("fail2", body % 2, env={"DATAINSIGHT_KEEP_LOG": "1"})
        self.assertEqual(second.returncode, 1, second.stderr)
        self.assertIn("attempt 2", self.log("f"))
        self.assertNotIn("attempt 1", self.log("f"))

    def test_a_cancel_reaches_the_step(self):
        # The test's process is the copier, as a pod's main process is; the
        # step is its child.
        path = os.path.join(self.tmp, "cancel.py")
        with open(path, "w") as f:
            f.write("import sys, time\nsys.path.insert(0, %r)\nimport datainsight_runtime as _di\n" % RUNTIME_DIR)
            f.write("_di_step = _di.Step('x')\nprint('waiting', flush=True)\ntime.sleep(60)\n")
        e = dict(os.environ, DATAINSIGHT_MARSHAL_ROOT=self.root, DATAINSIGHT_RUN_ID="run1", DATAINSIGHT_KEEP_LOG="1")
        p = subprocess.Popen([sys.executable, path], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.stdout.readline(), b"waiting\n")
        p.terminate()
        p.communicate(timeout=30)
        self.assertEqual(p.returncode, -15)  # the step died of the SIGTERM, and the copier says so
        self.assertIn("waiting", self.log("x"))

    def test_a_background_child_does_not_hold_the_step(self):
        r = self.script("bg", """
            import subprocess
            _di_step = _di.Step("bg")
            subprocess.Popen(["sleep", "60"])  # inherits the step's streams
            print("started", flush=True)
            _di_step.finish()
        """, env={"DATAINSIGHT_KEEP_LOG": "1"})  # a hang would time out (script's 120 s)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("started", self.log("bg"))

    def test_spawned_workers_get_definitions_only(self):
        # A "spawn" worker runs the script again as __mp_main__ to find the
        # function it is sent: it must find it, and run nothing else.
        prod = self.script("prod", """
            _di_step = _di.Step("p")
            _di_step.run_cell(1, "x = 3\\n", globals())
            _di_step.save(globals(), {"x": 1})
            _di_step.finish()
        """)
        self.assertEqual(prod.returncode, 0, prod.stderr)
        r = self.script("spawn", """
            _di_step = _di.Step("w")
            _di_step.run_cell(1, "import multiprocessing\\n", globals(), role="imports")
            _di_step.run_cell(2, "def square(v):\\n    return v * v\\n", globals(), role="functions")
            x = _di_step.load("x", "p")
            _di_step.run_cell(3, "print('step cell ran')\\n"
                                 "with multiprocessing.get_context('spawn').Pool(2) as pool:\\n"
                                 "    print(pool.map(square, range(x)))\\n", globals())
            _di_step.save(globals(), {"square": 2})
            _di_step.finish()
        """, env={"DATAINSIGHT_KEEP_LOG": "1"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.count("step cell ran"), 1, r.stdout)
        self.assertIn("[0, 1, 4]", r.stdout)
        self.assertEqual(self.log("w").count("step cell ran"), 1)
        self.assertIn("square", di.read_manifest(os.path.join(self.root, "run1", "w"))["values"])

    def test_off_by_default(self):
        r = self.script("plain", """
            _di_step = _di.Step("p")
            _di_step.run_cell(1, "print('hi')\\n", globals())
            _di_step.finish()
        """)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.root, "run1", "p", "output.log")))


class RunCellTest(TempRoot):
    def test_display_of_last_expression_and_streams(self):
        step = self.step()
        ns = main_ns()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            step.run_cell(1, "print('hi')\nx = 40\nx + 2\n", ns)
            step.run_cell(2, "x;\n", ns)
            step.run_cell(3, "x  ;  # comment\n", ns)
            step.run_cell(4, "None\n", ns)
            step.run_cell(5, "{'b': 1, 'a': 2}\n", ns)
        step._uninstall_streams()
        c1, c2, c3, c4, c5 = step._cells
        self.assertEqual(c1["outputs"][0], {"output_type": "stream", "name": "stdout", "text": "hi\n"})
        self.assertEqual(c1["outputs"][1]["output_type"], "execute_result")
        self.assertEqual(c1["outputs"][1]["data"], {"text/plain": "42"})
        self.assertEqual(c1["outputs"][1]["execution_count"], 1)
        self.assertEqual(c2["outputs"], [])
        self.assertEqual(c3["outputs"], [])
        self.assertEqual(c4["outputs"], [])
        self.assertEqual(c5["outputs"][0]["data"]["text/plain"], "{'b': 1, 'a': 2}")  # insertion order, as IPython
        self.assertEqual(out.getvalue(), "hi\n42\n{'b': 1, 'a': 2}\n")  # the log shows what IPython would show

    def test_rich_display(self):
        step = self.step()
        ns = main_ns()
        step.run_cell(1, textwrap.dedent("""
            class Table:
                def _repr_html_(self): return "<table><tr><td>1</td></tr></table>"
                def _repr_png_(self): return b"\\x89PNG fake"
                def __repr__(self): return "Table()"
            display(Table(), 'second')
            Table()
        """), ns)
        step._uninstall_streams()
        outs = step._cells[0]["outputs"]
        self.assertEqual([o["output_type"] for o in outs], ["display_data", "display_data", "execute_result"])
        self.assertEqual(outs[0]["data"]["text/html"], "<table><tr><td>1</td></tr></table>")
        self.assertEqual(outs[0]["data"]["image/png"], "iVBORyBmYWtl")
        self.assertEqual(outs[1]["data"], {"text/plain": "'second'"})

    def test_top_level_await(self):
        step = self.step()
        ns = main_ns()
        self.assertTrue(step.run_cell(1, "import asyncio\nawait asyncio.sleep(0)\nv = await asyncio.sleep(0, 'ok')\nv\n", ns))
        step.finish()
        self.assertEqual(ns["v"], "ok")
        self.assertEqual(step._cells[0]["outputs"][-1]["data"]["text/plain"], "'ok'")

    def test_traceback_maps_to_cells(self):
        step = self.step()
        ns = main_ns()
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            step.run_cell(3, "def helper(x):\n    y = x + 1\n    return 10 / (y - y)\n", ns)
            ok = step.run_cell(4, "a = 1\nhelper(a)\n", ns)
            skipped = step.run_cell(5, "print('not run')\n", ns)
        step._uninstall_streams()
        self.assertFalse(ok)
        self.assertFalse(skipped)
        error = step._cells[1]["outputs"][-1]
        self.assertEqual(error["output_type"], "error")
        self.assertEqual(error["ename"], "ZeroDivisionError")
        tb = "\n".join(error["traceback"])
        self.assertIn("cell 4, line 2, in <module>\n    helper(a)", tb)
        self.assertIn("cell 3, line 3, in helper\n    return 10 / (y - y)", tb)
        self.assertNotIn("datainsight_runtime", tb)
        self.assertNotIn("File ", tb)
        self.assertTrue(tb.startswith("Traceback (most recent call last):"))
        self.assertIn(tb, err.getvalue())
        self.assertTrue(step._cells[2]["metadata"]["datainsight"]["skipped"])
        self.assertEqual(step._exit_code, di.EXIT_CELL_FAILED)

    def test_syntax_error_and_chained_exception(self):
        step = self.step()
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            step.run_cell(7, "x = 1\ny = (\n", main_ns())
        tb = "\n".join(step._cells[0]["outputs"][0]["traceback"])
        self.assertIn("cell 7, line 2", tb)
        self.assertIn("SyntaxError", tb)
        step2 = self.step("t2")
        with contextlib.redirect_stderr(err):
            step2.run_cell(2, "try:\n    {}['k']\nexcept KeyError as e:\n    raise ValueError('bad') from e\n",
                           main_ns())
        step2._uninstall_streams()
        tb = "\n".join(step2._cells[0]["outputs"][0]["traceback"])
        self.assertIn("cell 2, line 2", tb)
        self.assertIn("cell 2, line 4", tb)
        self.assertIn("The above exception was the direct cause", tb)
        self.assertNotIn("datainsight_runtime", tb)

    def test_stream_capture_keeps_logging_handlers_working(self):
        step = self.step()
        ns = main_ns()
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            step.run_cell(1, "import logging, sys\nlog = logging.getLogger('t')\n"
                             "log.addHandler(logging.StreamHandler(sys.stderr))\nlog.warning('one')\n", ns)
            step.run_cell(2, "log.warning('two')\n", ns)
            step._uninstall_streams()
        self.assertEqual(step._cells[1]["outputs"], [{"output_type": "stream", "name": "stderr", "text": "two\n"}])
        self.assertIn("one\ntwo\n", err.getvalue())

    @need("matplotlib")
    def test_figures_are_captured_and_closed(self):
        step = self.step()
        ns = main_ns()
        step.run_cell(1, "import matplotlib.pyplot as plt\n", ns, role="imports")
        step.run_cell(2, "plt.plot([1, 2, 3])\nplt.show()\nplt.figure()\nplt.plot([3, 1]);\n", ns)
        step.run_cell(3, "n = len(plt.get_fignums())\n", ns)
        step._uninstall_streams()
        pngs = [o for o in step._cells[1]["outputs"] if "image/png" in o.get("data", {})]
        self.assertEqual(len(pngs), 2)
        import base64
        self.assertTrue(base64.b64decode(pngs[0]["data"]["image/png"]).startswith(b"\x89PNG"))
        self.assertEqual(ns["n"], 0)
        self.assertEqual(os.environ.get("MPLBACKEND"), "Agg")


class ParamTest(TempRoot):
    def param(self, default, raw, name="p"):
        step = self.step()
        with unittest.mock.patch.dict(os.environ, {"DATAINSIGHT_PARAM_" + name: raw}):
            return step.param(name, default)

    def test_default_without_override(self):
        os.environ.pop("DATAINSIGHT_PARAM_unset", None)
        self.assertEqual(self.step().param("unset", 0.1), 0.1)

    def test_overrides(self):
        self.assertEqual(self.param(0.1, "0.5"), 0.5)
        got = self.param(0.1, "2")
        self.assertEqual((got, type(got)), (2.0, float))
        self.assertEqual(self.param(1, " -3 "), -3)
        self.assertEqual(self.param("a", "'b c'"), "b c")
        self.assertIs(self.param(False, "True"), True)
        self.assertEqual(self.param([1], "[2, 3]"), [2, 3])
        self.assertEqual(self.param({"k": 1}, "{'k': 2}"), {"k": 2})
        self.assertEqual(self.param(None, "(1, 'x')"), (1, "x"))

    def test_type_errors_name_the_parameter(self):
        for default, raw, want in ((1, "True", "is a bool, but the parameter is a int"),
                                   (1, "1.5", "is a float, but the parameter is a int"),
                                   (0.1, "'x'", "is a str, but the parameter is a float"),
                                   (True, "1", "is a int, but the parameter is a bool"),
                                   ([1], "(1,)", "is a tuple, but the parameter is a list")):
            with self.subTest(raw=raw):
                with self.assertRaises(di.ParameterError) as cm:
                    self.param(default, raw, name="lr")
                self.assertIn("parameter 'lr': DATAINSIGHT_PARAM_lr=%r %s" % (raw, want), str(cm.exception))

    def test_not_a_literal(self):
        with self.assertRaises(di.ParameterError) as cm:
            self.param("a", "hello", name="mode")
        msg = str(cm.exception)
        self.assertIn("parameter 'mode': DATAINSIGHT_PARAM_mode='hello' is not a Python literal", msg)
        self.assertIn("strings need quotes", msg)
        with self.assertRaises(di.ParameterError):
            self.param(1, "__import__('os').getpid()")

    def test_bad_parameter_fails_the_step(self):
        r = self.script("param", """
            _di_step = _di.Step("a")
            lr = _di_step.param("lr", 0.1)
            _di_step.run_cell(1, "print('ran', lr)\\n", globals())
            _di_step.finish()
        """, env={"DATAINSIGHT_PARAM_lr": "'fast'"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("parameter 'lr'", r.stderr)
        self.assertNotIn("ran", r.stdout)


class ShellTest(TempRoot):
    def test_sh_streams_and_sets_exit_code(self):
        step = self.step()
        ns = main_ns(name="world")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            step.run_cell(1, "_di.sh('echo hello {name}; echo oops >&2; exit 3')\n", ns)
            step.run_cell(2, "r = _di.sh('true')\n", ns)
        step._uninstall_streams()
        # A terminal's line discipline ends lines with \r\n, as ipykernel's `!cmd` shows them.
        self.assertEqual(step._cells[0]["outputs"], [{"output_type": "stream", "name": "stdout",
                                                       "text": "hello world\r\noops\r\n"}])
        self.assertEqual(out.getvalue(), "hello world\r\noops\r\n")
        self.assertIsNone(ns["r"])
        self.assertEqual(ns["_exit_code"], 0)
        ns2 = main_ns()
        exec("_di.sh('exit 3')", ns2)
        self.assertEqual(ns2["_exit_code"], 3)
        exec("_di.sh('kill -TERM $$')", ns2)
        self.assertEqual(ns2["_exit_code"], -15)

    def test_expansion_like_ipython(self):
        ns = main_ns(path="/tmp/a b", n=3)
        exec("out1 = _di.getoutput('echo $n {n*2} $$HOME')\n"
             "out2 = _di.getoutput(\"echo '{print $1}' | tr -d x\")\n"
             "out3 = _di.getoutput(\"echo '$n'\")\n", ns)
        self.assertEqual(ns["out1"], ["3 6 " + os.environ.get("HOME", "")])
        self.assertEqual(ns["out2"], ["{print $1}"])  # expansion fails, command runs as written
        self.assertEqual(ns["out3"], ["$n"])

    def test_getoutput_lines(self):
        got = di.getoutput("printf 'a\\nb\\n'; echo err >&2; exit 1")
        self.assertEqual(got, ["a", "b", "err"])
        self.assertEqual(got.s, "a b err")
        self.assertEqual(got.n, "a\nb\nerr")


class LineMagicHelpersTest(TempRoot):
    def test_capture_like_percent_percent_capture(self):
        step = self.step()
        ns = main_ns()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            ok = step.run_cell(1, "with _di.capture('cap') as cap:\n    print('hidden')\n    _di.sh('echo sh-hidden')\n"
                                  "    display('rich')\n    import sys; print('e', file=sys.stderr)\n", ns)
            step.run_cell(2, "with _di.capture('--no-stdout c2') as c2:\n    print('shown')\n", ns)
            step.run_cell(3, "cap.show()\n", ns)
        step._uninstall_streams()
        self.assertTrue(ok)
        cap = ns["cap"]
        self.assertEqual((cap.stdout, cap.stderr), ("hidden\nsh-hidden\r\n", "e\n"))
        self.assertEqual(cap.outputs, [{"text/plain": "'rich'"}])
        self.assertEqual(step._cells[0]["outputs"], [])
        self.assertEqual(step._cells[1]["outputs"][0]["text"], "shown\n")
        self.assertEqual(ns["c2"].stdout, "")
        replay = step._cells[2]["outputs"]
        self.assertEqual(replay[0], {"output_type": "stream", "name": "stdout", "text": "hidden\nsh-hidden\r\n"})
        self.assertEqual(replay[-1]["data"], {"text/plain": "'rich'"})
        got, _ = self.roundtrip(cap)  # %%capture NAME may be an output of its step
        self.assertEqual(got.stdout, cap.stdout)

    def test_setenv_and_chdir(self):
        here = os.getcwd()
        self.addCleanup(os.chdir, here)
        ns = main_ns(sub="x y")
        os.makedirs(os.path.join(self.tmp, "x y"))
        out = io.StringIO()
        with contextlib.redirect_stdout(out), unittest.mock.patch.dict(os.environ):
            exec("_di.setenv('DI_TEST_A=1')\n_di.setenv('DI_TEST_B two words')\nvalue = _di.setenv('DI_TEST_A')\n", ns)
            self.assertEqual((os.environ["DI_TEST_A"], os.environ["DI_TEST_B"]), ("1", "two words"))
            self.assertEqual(ns["value"], "1")
            exec("_di.chdir(%r)\n_di.chdir('{sub}')\n" % self.tmp, ns)
            self.assertEqual(os.getcwd(), os.path.realpath(os.path.join(self.tmp, "x y")))
            exec("_di.chdir('-')\n", ns)
            self.assertEqual(os.getcwd(), os.path.realpath(self.tmp))
        self.assertEqual(out.getvalue().splitlines()[:2], ["env: DI_TEST_A=1", "env: DI_TEST_B=two words"])
        self.assertEqual(os.environ.get("DATAINSIGHT_PYTHON_EXE") is not None, True)


class MagicTest(TempRoot):
    @need("IPython")
    def test_cell_magic_with_ipython(self):
        path = os.path.join(self.tmp, "written.txt")
        ns = main_ns()
        di.run_cell_magic("writefile", path, "hello\n", ns)
        with open(path) as f:
            self.assertEqual(f.read(), "hello\n")
        di.run_cell_magic("capture", "cap", "print('inside')\n", ns)
        self.assertEqual(ns["cap"].stdout, "inside\n")
        self.assertEqual(di.line_magic("who_ls", "", main_ns(alpha=1)), ["alpha"])

    def test_cell_magic_without_ipython(self):
        r = self.script("magic", """
            sys.modules["IPython"] = None
            _di_step = _di.Step("m")
            _di_step.run_cell(4, "_di.run_cell_magic('writefile', 'x.txt', 'hi', globals())\\n", globals())
            _di_step.finish()
        """)
        self.assertEqual(r.returncode, 1)
        self.assertIn("MagicError: %%writefile needs IPython, which is not importable", r.stderr)
        self.assertIn("cell 4, line 1", r.stderr)


class ReportTest(TempRoot):
    def run_reported_step(self):
        return self.script("rep", """
            _di_step = _di.Step("rep", notebook="nb.ipynb")
            k = _di_step.param("k", 2)
            _di_step.run_cell(1, "import math\\n", globals(), role="imports")
            _di_step.run_cell(2, "print('<script>alert(1)</script>')\\nclass H:\\n"
                                 "    def _repr_html_(self): return '<b>bold</b><script>x()</script>'\\nH()\\n", globals())
            _di_step.run_cell(3, "score = math.sqrt(k)\\nnp_free = 'ok'\\nscore\\n", globals())
            _di_step.metrics(globals(), ["score", "np_free", "missing", "k"])
            _di_step.run_cell(4, "1/0\\n", globals())
            _di_step.run_cell(5, "print('skipped')\\n", globals())
            _di_step.finish()
        """, env={"DATAINSIGHT_PARAM_k": "4"})

    def test_report_files(self):
        r = self.run_reported_step()
        self.assertEqual(r.returncode, 1, r.stderr)
        d = os.path.join(self.root, "run1", "rep")
        nb = self.report("rep")
        self.assertEqual((nb["nbformat"], nb["nbformat_minor"]), (4, 5))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        self.assertEqual([c["metadata"]["datainsight"]["cell"] for c in code], [1, 2, 3, 4, 5])
        self.assertEqual([c["execution_count"] for c in code], [1, 2, 3, 4, None])
        self.assertEqual(code[0]["metadata"]["datainsight"]["role"], "imports")
        self.assertEqual(code[2]["outputs"][0]["data"]["text/plain"], "2.0")
        self.assertEqual(code[3]["outputs"][0]["output_type"], "error")
        meta = nb["metadata"]["datainsight"]
        self.assertEqual((meta["status"], meta["exit_code"], meta["parameters"]), ("failed", 1, {"k": 4}))
        with open(os.path.join(d, "metrics.json")) as f:
            self.assertEqual(json.load(f), {"metrics": [{"name": "score", "value": 2.0},
                                                        {"name": "np_free", "value": "ok"},
                                                        {"name": "k", "value": 4}]})
        with open(os.path.join(d, "report.html")) as f:
            page = f.read()
        self.assertTrue(page.startswith("<!DOCTYPE html>"))
        self.assertNotIn("<script>", page)  # sources and outputs are escaped
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", page)
        self.assertIn('<iframe sandbox=""', page)  # notebook HTML cannot run scripts
        self.assertIn("ZeroDivisionError", page)
        self.assertFalse([n for n in os.listdir(d) if n.startswith(".tmp-")])

    @need("nbformat")
    def test_report_is_valid_nbformat(self):
        import nbformat
        self.run_reported_step()
        with open(os.path.join(self.root, "run1", "rep", "report.ipynb")) as f:
            nb = nbformat.read(f, as_version=nbformat.NO_CONVERT)
        nbformat.validate(nb)  # raises ValidationError

    @need("nbformat")
    @need("matplotlib")
    def test_report_with_figure_is_valid_and_inlines_it(self):
        import nbformat
        r = self.script("fig", """
            _di_step = _di.Step("fig")
            _di_step.run_cell(1, "import matplotlib.pyplot as plt\\n", globals(), role="imports")
            _di_step.run_cell(2, "plt.plot([1, 3, 2])\\n", globals())
            _di_step.finish()
        """)
        self.assertEqual(r.returncode, 0, r.stderr)
        path = os.path.join(self.root, "run1", "fig", "report.ipynb")
        nbformat.validate(nbformat.read(path, as_version=nbformat.NO_CONVERT))
        with open(os.path.join(self.root, "run1", "fig", "report.html")) as f:
            self.assertIn('<img src="data:image/png;base64,iVBOR', f.read())


class AcrossProcessesTest(TempRoot):
    @need("dill")
    @need("numpy")
    def test_notebook_definitions_pass_between_processes(self):
        prod = self.script("prod", """
            _di_step = _di.Step("prod", notebook="nb.ipynb")
            _di_step.run_cell(1, "import numpy as np\\n", globals(), role="imports")
            _di_step.run_cell(2, "class Shared:\\n    def __init__(self, v): self.v = v\\n", globals(), role="functions")
            _di_step.run_cell(3, "def scale(x):\\n    return np.asarray(x) * factor\\n"
                                 "class Model:\\n    def __init__(self): self.w = np.ones(3)\\n"
                                 "    def predict(self, x): return float(self.w @ x)\\n"
                                 "model = Model()\\nshared = Shared(Model())\\nfactor = 10\\n", globals())
            _di_step.save(globals(), {"scale": 3, "Model": 3, "model": 3, "shared": 3, "factor": 3})
            _di_step.finish()
        """)
        self.assertEqual(prod.returncode, 0, prod.stderr)
        values = di.read_manifest(os.path.join(self.root, "run1", "prod"))["values"]
        self.assertEqual({k: v["format"] for k, v in values.items()},
                         {"scale": "dill", "Model": "dill", "model": "dill", "factor": "pickle",
                          "shared": "dill"})  # Shared is replayed, but it holds a notebook-only Model
        cons = self.script("cons", """
            _di_step = _di.Step("cons", notebook="nb.ipynb")
            _di_step.run_cell(1, "import numpy as np\\n", globals(), role="imports")
            _di_step.run_cell(2, "class Shared:\\n    def __init__(self, v): self.v = v\\n", globals(), role="functions")
            scale = _di_step.load("scale", "prod")
            Model = _di_step.load("Model", "prod")
            model = _di_step.load("model", "prod")
            shared = _di_step.load("shared", "prod")
            factor = _di_step.load("factor", "prod")
            _di_step.run_cell(4, "print(list(scale([1, 2])), model.predict(np.arange(3.0)), Model().w.sum(), "
                                 "isinstance(shared, Shared), shared.v.predict(np.ones(3)))\\n", globals())
            _di_step.finish()
        """)
        self.assertEqual(cons.returncode, 0, cons.stderr)
        self.assertEqual(cons.stdout.strip(), "[10, 20] 3.0 3.0 True 3.0")

    def test_class_from_functions_cell_is_passed_by_name(self):
        # A class every step defines (functions cell) needs no dill: the
        # loader's own class is used, so isinstance holds.
        functions = """
            _di_step = _di.Step(%r)
            _di_step.run_cell(1, "class Point:\\n    def __init__(self, x): self.x = x\\n", globals(), role="functions")
        """
        prod = self.script("prod", functions % "prod" + """
            _di_step.run_cell(2, "p = Point(5)\\n", globals())
            _di_step.save(globals(), {"p": 2})
            _di_step.finish()
        """)
        self.assertEqual(prod.returncode, 0, prod.stderr)
        self.assertEqual(di.read_manifest(os.path.join(self.root, "run1", "prod"))["values"]["p"]["format"], "pickle")
        cons = self.script("cons", functions % "cons" + """
            p = _di_step.load("p", "prod")
            _di_step.run_cell(3, "print(isinstance(p, Point), p.x)\\n", globals())
            _di_step.finish()
        """)
        self.assertEqual(cons.returncode, 0, cons.stderr)
        self.assertEqual(cons.stdout.strip(), "True 5")


class MainClassIdentityTest(TempRoot):
    """A class defined in a step has one identity in a step that loads it
    from several values (dill pickles it by value, once per value)."""

    DEFINE = (
        "from dataclasses import dataclass, field\n"
        "@dataclass\n"
        "class Item:\n"
        "    sku: str\n"
        "    stock: int\n"
        "    history: list = field(default_factory=list)\n"
        "    def sell(self, n):\n"
        "        self.stock -= n\n"
        "        return n\n"
        "class Warehouse:\n"
        "    restocks = 0\n"
        "    def __init__(self, items):\n"
        "        self.items = {it.sku: it for it in items}\n"
        "class Big(Warehouse):\n"
        "    def __init__(self, items):\n"
        "        super().__init__(items)\n"
        "        Warehouse.restocks += 1\n"
    )

    def run_ok(self, name, body):
        r = self.script(name, body)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def produce(self, redefined_sell=None):
        self.run_ok("define", """
            _di_step = _di.Step("define", notebook="nb.ipynb")
            _di_step.run_cell(1, %r, globals())
            _di_step.save(globals(), {"Item": 1, "Warehouse": 1, "Big": 1})
            _di_step.finish()
        """ % self.DEFINE)
        self.run_ok("stock", """
            _di_step = _di.Step("stock", notebook="nb.ipynb")
            Item = _di_step.load("Item", "define")
            Warehouse = _di_step.load("Warehouse", "define")
            Big = _di_step.load("Big", "define")
            _di_step.run_cell(2, "wh = Big([Item('apple', 5), Item('pear', 3)])\\n", globals())
            _di_step.save(globals(), {"wh": 2})
            _di_step.finish()
        """)
        if redefined_sell is not None:
            # Another step redefines Item (same cell, another method body).
            self.run_ok("redefine", """
                _di_step = _di.Step("redefine", notebook="nb.ipynb")
                _di_step.run_cell(1, %r, globals())
                _di_step.run_cell(3, "odd = Item('fig', 9)\\n", globals())
                _di_step.save(globals(), {"odd": 3})
                _di_step.finish()
            """ % self.DEFINE.replace("self.stock -= n", redefined_sell))

    CHECK = ("its = list(wh.items.values())\\n"
             "print(all(isinstance(it, Item) for it in its), all(type(it) is Item for it in its),"
             " type(wh) is Big, isinstance(wh, Warehouse), Big.__bases__ == (Warehouse,),"
             " its[0].sell(2), its[0].stock, Item('kiwi', 1).sell(1), Big([]).items, Warehouse.restocks)\\n")

    @need("dill")
    def test_values_from_different_steps_share_the_class(self):
        self.produce()
        for order in (("wh", "Item", "Warehouse", "Big"), ("Item", "Warehouse", "Big", "wh"),
                      ("Big", "wh", "Item", "Warehouse")):
            with self.subTest(order=order):
                loads = "".join("%s = _di_step.load(%r, %r)\n" % (n, n, "stock" if n == "wh" else "define")
                                for n in order)
                out = self.run_ok("report", """
                    _di_step = _di.Step("report", notebook="nb.ipynb")
                    %s
                    _di_step.run_cell(4, "%s", globals())
                    _di_step.finish()
                """ % (textwrap.indent(loads, " " * 20).strip(), self.CHECK))
                # Class attributes are the first-created class's: wh's copy
                # of Warehouse counts stock's Big(...), define's does not;
                # Big([]) here counts one more.
                restocks = 2 if order[0] == "wh" else 1
                self.assertEqual(out, "True True True True True 2 3 1 {} %d" % restocks)

    @need("dill")
    def test_a_redefined_class_stays_distinct(self):
        self.produce(redefined_sell="self.stock -= 2 * n")
        out = self.run_ok("report", """
            _di_step = _di.Step("report", notebook="nb.ipynb")
            odd = _di_step.load("odd", "redefine")
            wh = _di_step.load("wh", "stock")
            Item = _di_step.load("Item", "define")
            _di_step.run_cell(4, "it = wh.items['apple']\\n"
                                 "print(isinstance(it, Item), isinstance(odd, Item), type(odd).__name__,"
                                 " odd.sell(1), odd.stock, it.sell(1), it.stock)\\n", globals())
            _di_step.finish()
        """)
        self.assertEqual(out, "True False Item 1 7 1 4")

    @need("dill")
    def test_a_class_differing_only_in_closures_stays_distinct(self):
        # dill fills closures in after it makes the class: the choice made
        # without them is checked once the value is loaded.
        for step, k in (("p1", 2), ("p2", 3), ("p3", 2)):
            self.run_ok(step, """
                _di_step = _di.Step(%r, notebook="nb.ipynb")
                _di_step.run_cell(1, "def scaled(k):\\n    def deco(f):\\n        def w(self):\\n"
                                     "            return k * f(self)\\n        return w\\n    return deco\\n"
                                     "class C:\\n    @scaled(%d)\\n    def f(self):\\n        return 1\\n"
                                     "v = C()\\n", globals())
                _di_step.save(globals(), {"v": 1})
                _di_step.finish()
            """ % (step, k))
        out = self.run_ok("cons", """
            _di_step = _di.Step("cons", notebook="nb.ipynb")
            x = _di_step.load("v", "p1")
            y = _di_step.load("v", "p2")
            z = _di_step.load("v", "p3")
            _di_step.run_cell(4, "print(type(x) is type(y), type(x) is type(z), x.f(), y.f(), z.f())\\n", globals())
            _di_step.finish()
        """)
        self.assertEqual(out, "False True 2 3 2")

    @need("dill")
    def test_a_class_bound_in_main_is_taken_when_it_is_the_same(self):
        self.produce()
        # The step runs the defining cell itself: the loaded values use its classes.
        out = self.run_ok("report", """
            _di_step = _di.Step("report", notebook="nb.ipynb")
            _di_step.run_cell(1, %r, globals())
            mine = Item
            wh = _di_step.load("wh", "stock")
            _di_step.run_cell(4, "print(Item is mine, all(type(it) is Item for it in wh.items.values()),"
                                 " type(wh) is Big)\\n", globals())
            _di_step.finish()
        """ % self.DEFINE)
        self.assertEqual(out, "True True True")

    @need("dill")
    def test_in_process_loads_share_the_class(self):
        ns = main_ns()
        exec("class Pt:\n    def __init__(self, x): self.x = x\n    def norm(self): return abs(self.x)\n"
             "a = [Pt(1)]\nb = {'p': Pt(2)}\n", ns)
        prod = self.step("p1")
        prod.save(ns, {"a": 1})
        prod2 = self.step("p2")
        prod2.save(ns, {"b": 1})
        cons = self.step("c1")
        a, b = cons.load("a", "p1"), cons.load("b", "p2")
        self.assertIs(type(a[0]), type(b["p"]))
        self.assertIsNot(type(a[0]), ns["Pt"])  # pickled by value, in this process too
        self.assertEqual(b["p"].norm(), 2)


class ReadRecordTest(TempRoot):
    """files-read.json: every file a step opened for reading, for the cache to check."""

    def run_in(self, workdir, body):
        path = os.path.join(self.tmp, "reads.py")
        with open(path, "w") as f:
            # As a generated step script does: the notebook's folder leads the path.
            f.write("import sys, os\nsys.path[0] = ''\nsys.path.insert(1, %r)\nimport datainsight_runtime as _di\n"
                    % RUNTIME_DIR)
            f.write(textwrap.dedent(body))
        e = dict(os.environ, DATAINSIGHT_MARSHAL_ROOT=self.root, DATAINSIGHT_RUN_ID="run1")
        return subprocess.run([sys.executable, path], env=e, cwd=workdir, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=120)

    def record(self, step):
        with open(os.path.join(self.root, "run1", step, di.READS)) as f:
            return json.load(f)

    def test_reads_are_recorded_relative_to_the_notebook_folder(self):
        nb = os.path.join(self.tmp, "nb")
        os.makedirs(os.path.join(nb, "sub"))
        outside = os.path.join(self.tmp, "outside.txt")
        for name, text in (("data.csv", "a,b\n"), ("sub/more.txt", "x"), ("helper.py", "K = 1\n")):
            with open(os.path.join(nb, name), "w") as f:
                f.write(text)
        with open(outside, "w") as f:
            f.write("o")
        r = self.run_in(nb, """
            _di_step = _di.Step("s")
            _di_step.run_cell(1, "import json, csv, helper\\n"
                                 "open('data.csv').read()\\n"
                                 "open('da' + 'ta.csv', 'rb').read()\\n"
                                 "fd = os.open(os.path.join('sub', 'more.txt'), os.O_RDONLY); os.close(fd)\\n"
                                 "open(%r).read()\\n"
                                 "try:\\n    open('absent.txt')\\nexcept OSError:\\n    pass\\n"
                                 "open('made.txt', 'w').write('new')\\n"
                                 "open('made.txt').read()\\n"
                                 "open('log.txt', 'a').write('appended')\\n", globals())
            _di_step.finish()
        """ % outside)
        self.assertEqual(r.returncode, 0, r.stderr)
        rec = self.record("s")
        self.assertEqual(rec["version"], 1)
        self.assertEqual(os.path.realpath(rec["workdir"]), os.path.realpath(nb))
        files = {f["path"]: f for f in rec["files"]}
        # The step's own reads, the notebook's module (its source, not its
        # bytecode), a file outside the folder by its absolute path, and a
        # file that was missing; not what it wrote afresh or only
        # appended to, nor the standard library, nor its own marshal files.
        self.assertEqual(sorted(files), sorted(["data.csv", "sub/more.txt", "helper.py", outside, "absent.txt"]),
                         rec["files"])
        st = os.stat(os.path.join(nb, "data.csv"))
        self.assertEqual((files["data.csv"]["size"], files["data.csv"]["mtime_ns"]), (st.st_size, st.st_mtime_ns))
        self.assertTrue(files["absent.txt"]["missing"])

    def test_a_notebook_inside_a_system_folder_still_records(self):
        # /usr/... holds no step's input, unless the notebook lives there;
        # here a stand-in for it is skipped as a system folder.
        nb = os.path.join(self.tmp, "usr", "src", "app")
        os.makedirs(nb)
        with open(os.path.join(nb, "data.csv"), "w") as f:
            f.write("1")
        log = di._ReadLog(nb, [self.root], [os.path.join(self.tmp, "usr")])
        log.opened(os.path.join(nb, "data.csv"), "r", os.O_RDONLY)
        log.opened(os.path.join(self.tmp, "usr", "other.txt"), "r", os.O_RDONLY)
        self.assertEqual([f["path"] for f in log.record()["files"]], ["data.csv"])

    def test_a_failing_hook_never_fails_the_open(self):
        saved = di._reads
        try:
            class Broken:
                def opened(self, *args):
                    raise RuntimeError("boom")
            di._reads = Broken()
            if not getattr(di._audit, "_installed", False):
                sys.addaudithook(di._audit)
                di._audit._installed = True
            with open(os.path.join(self.tmp, "x.txt"), "w") as f:
                f.write("x")
            with open(os.path.join(self.tmp, "x.txt")) as f:
                self.assertEqual(f.read(), "x")
        finally:
            di._reads = saved


class BackgroundShellTest(TempRoot):
    def test_a_background_job_does_not_hold_the_cell(self):
        # `!cmd &` leaves cmd holding the output pipe; the cell must go on
        # once the shell is done (the script's timeout catches a hang).
        pidfile = os.path.join(self.tmp, "bg.pid")
        r = self.script("bgsh", """
            _di_step = _di.Step("b")
            _di_step.run_cell(1, "_di.sh('echo before; sleep 100000 & echo $! > %s')\\nprint('after')\\n", globals())
            _di_step.finish()
        """ % pidfile)
        try:
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("before", r.stdout)
            self.assertIn("after", r.stdout)
        finally:
            with open(pidfile) as f:
                os.kill(int(f.read()), 9)


class SharedObjectsTest(TempRoot):
    """Values one step saves that share objects share them again where they are loaded, as in the kernel."""

    def save(self, ns, names, step="prod"):
        prod = self.step(step)
        prod.save(main_ns(**ns), {n: 1 for n in names})
        return prod, di.read_manifest(prod.dir)

    def test_values_sharing_objects_are_saved_together(self):
        a = [1]
        prod, manifest = self.save({"a": a, "pair": [a, {"k": a}], "alone": [2], "n": 3}, ["pair", "a", "alone", "n"])
        cons = self.step("cons")
        pair, a2 = cons.load("pair", "prod"), cons.load("a", "prod")
        self.assertIs(pair[0], a2)
        self.assertIs(pair[1]["k"], a2)
        pair[0].append(5)
        self.assertEqual(a2, [1, 5])
        self.assertEqual(manifest["groups"], {"group-a": ["a", "pair"]})
        values = manifest["values"]
        self.assertEqual((values["a"]["file"], values["pair"]["file"]), ("group-a.pkl", "group-a.pkl"))
        self.assertEqual(values["a"]["group"], "group-a")
        self.assertEqual(values["a"]["checksum"], sha256_file(os.path.join(prod.dir, "group-a.pkl")))
        self.assertEqual(values["a"]["size"], os.path.getsize(os.path.join(prod.dir, "group-a.pkl")))
        # Values that share nothing keep their own file and a plain entry.
        self.assertEqual(values["alone"]["file"], "alone.pkl")
        self.assertNotIn("group", values["alone"])
        self.assertEqual(sorted(f for f in os.listdir(prod.dir) if f.endswith(".pkl")),
                         ["alone.pkl", "group-a.pkl", "n.pkl"])
        # The public loader gives one value, unpickling the group.
        self.assertEqual(di.load_value(prod.dir, "a"), [1])

    def test_artifacts_mode_loads_values_that_came_as_artifacts_of_their_own(self):
        # On Argo each value is an output artifact at <name>.artifact, and a
        # consumer gets the manifest and the artifacts of what it loads only.
        a = [1]
        with unittest.mock.patch.dict(os.environ, {di.ENV_ARTIFACTS: "1"}):
            prod, manifest = self.save({"a": a, "pair": [a, {"k": a}], "alone": [2]}, ["pair", "a", "alone"])
        for name in ("a", "pair", "alone"):
            linked = os.path.join(prod.dir, name + di.ARTIFACT_EXT)
            self.assertEqual(sha256_file(linked), manifest["values"][name]["checksum"], name)
        # What the consumer's pod has: the manifest, pair and alone under
        # their artifact names, nothing else of the producer.
        shutil.rmtree(os.path.join(self.root, "run1", "prod2"), ignore_errors=True)
        dst = os.path.join(self.root, "run1", "prod2")
        os.makedirs(dst)
        shutil.copy(os.path.join(prod.dir, di.MANIFEST), dst)
        for name in ("pair", "alone"):
            shutil.copy(os.path.join(prod.dir, name + di.ARTIFACT_EXT), dst)
        cons = self.step("cons")
        self.assertEqual(cons.load("pair", "prod2"), [[1], {"k": [1]}])
        self.assertEqual(cons.load("alone", "prod2"), [2])
        self.assertFalse(cons.failed)
        # A value whose artifact did not come fails, naming its file.
        with self.assertRaisesRegex(di.MarshalError, "group-a.pkl is missing"):
            self.step("cons2").load("a", "prod2")
        # A re-run of the producer drops the old artifact names with the old values.
        again = self.step("prod")
        again.save(main_ns(n=1), {"n": 1})
        self.assertFalse(os.path.exists(os.path.join(prod.dir, "pair" + di.ARTIFACT_EXT)))

    def test_without_artifacts_mode_values_have_one_name(self):
        prod, _ = self.save({"x": [1]}, ["x"])
        self.assertEqual([f for f in os.listdir(prod.dir) if f.endswith(di.ARTIFACT_EXT)], [])

    def test_nothing_shared_means_no_group(self):
        _, manifest = self.save({"x": [1], "y": {"k": [1]}, "s": "text", "t": ("text", 1)}, ["x", "y", "s", "t"])
        self.assertNotIn("groups", manifest)
        self.assertEqual({v["file"] for v in manifest["values"].values()}, {"x.pkl", "y.pkl", "s.pkl", "t.pkl"})

    def test_loading_one_member_gives_just_that_value(self):
        a = {"k": 1}
        self.save({"a": a, "b": [a], "c": [a, a]}, ["a", "b", "c"])
        cons = self.step("cons")
        ns = main_ns()
        ns["b"] = cons.load("b", "prod")
        self.assertEqual(ns["b"], [{"k": 1}])
        cons.run_cell(1, "b[0]['k'] = 2\n", ns)
        # The group was unpickled whole, but nothing of it stays once the cells run.
        self.assertEqual(getattr(cons, "_loaded_groups", {}), {})
        self.assertEqual(di.read_manifest(os.path.join(self.root, "run1", "prod"))["groups"],
                         {"group-a": ["a", "b", "c"]})
        self.assertNotIn("a", ns)
        self.assertNotIn("c", ns)

    @need("numpy")
    def test_arrays_saved_as_npy_count_too(self):
        import numpy as np
        arr = np.arange(6.0)
        prod, manifest = self.save({"arr": arr, "same": arr, "d": {"arr": arr}, "other": np.ones(3)},
                                   ["arr", "same", "d", "other"])
        cons = self.step("cons")
        got = {n: cons.load(n, "prod") for n in ("arr", "same", "d")}
        self.assertIs(got["same"], got["arr"])
        self.assertIs(got["d"]["arr"], got["arr"])
        got["arr"][0] = 42
        self.assertEqual(got["d"]["arr"][0], 42)
        self.assertEqual(manifest["groups"], {"group-arr": ["arr", "d", "same"]})
        self.assertEqual(manifest["values"]["other"]["format"], "npy")
        self.assertFalse(os.path.exists(os.path.join(prod.dir, "arr.npy")))

    @need("pandas")
    def test_titanic_combine_across_processes(self):
        # The Kaggle Titanic notebooks: combine holds the very frames, and
        # a loop over it adds a column to train_df and test_df.
        prod = self.script("prod", """
            _di_step = _di.Step("prod", notebook="nb.ipynb")
            _di_step.run_cell(1, "import pandas as pd\\n", globals(), role="imports")
            _di_step.run_cell(2, "train_df = pd.DataFrame({'Name': ['Braund, Mr. Owen', 'Cumings, Mrs. John']})\\n"
                                 "test_df = pd.DataFrame({'Name': ['Kelly, Mr. James']})\\n"
                                 "combine = [train_df, test_df]\\n", globals())
            _di_step.save(globals(), {"train_df": 2, "test_df": 2, "combine": 2})
            _di_step.finish()
        """)
        self.assertEqual(prod.returncode, 0, prod.stderr)
        cons = self.script("cons", """
            _di_step = _di.Step("cons", notebook="nb.ipynb")
            _di_step.run_cell(1, "import pandas as pd\\n", globals(), role="imports")
            combine = _di_step.load("combine", "prod")
            test_df = _di_step.load("test_df", "prod")
            train_df = _di_step.load("train_df", "prod")
            _di_step.run_cell(3, "for d in combine:\\n"
                                 "    d['Title'] = d.Name.str.extract(r' ([A-Za-z]+)\\\\.', expand=False)\\n"
                                 "print(list(train_df.Title), list(test_df.Title))\\n", globals())
            _di_step.finish()
        """)
        self.assertEqual(cons.returncode, 0, cons.stderr)
        self.assertEqual(cons.stdout.strip(), "['Mr', 'Mrs'] ['Mr']")
        manifest = di.read_manifest(os.path.join(self.root, "run1", "prod"))
        self.assertEqual(manifest["groups"], {"group-combine": ["combine", "test_df", "train_df"]})

    @need("pandas")
    @need("sklearn")
    def test_frames_derived_from_one_another_are_not_grouped(self):
        # pandas shares Index objects (and the arrays in them) between
        # derived frames, sklearn keeps X.columns' array as
        # feature_names_in_, every frame's state names NDFrame._metadata:
        # none of that is data two values share.
        import numpy as np
        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split
        df = pd.DataFrame({"name": list("abcdef"), "age": np.arange(6.0), "y": [0, 1] * 3})
        X, y = df.drop(columns=["name", "y"]), df["y"]
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)
        mi = pd.DataFrame({"v": [1, 2]}, index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)]))
        ns = {"df": df, "X": X, "y": y, "X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test,
              "model": LogisticRegression().fit(X, y), "names": X.columns, "mi": mi, "mi2": mi[["v"]],
              "b1": Tagged(1), "b2": Tagged(2)}
        _, manifest = self.save(ns, list(ns))
        self.assertNotIn("groups", manifest)
        self.assertEqual(manifest["values"]["model"]["format"], "joblib")

    @need("dill")
    def test_a_group_with_notebook_definitions_uses_dill(self):
        ns = main_ns()
        exec("class P:\n    pass\np = P()\nitems = [p, p]\n", ns)
        prod = self.step("prod")
        prod.save(ns, {"p": 1, "items": 1})
        cons = self.step("cons")
        items, p = cons.load("items", "prod"), cons.load("p", "prod")
        self.assertIs(items[0], p)
        self.assertIs(items[1], p)
        manifest = di.read_manifest(prod.dir)
        self.assertEqual(manifest["groups"], {"group-items": ["items", "p"]})
        self.assertEqual(manifest["values"]["p"]["format"], "dill")

    @need("torch")
    def test_a_model_and_its_optimizer(self):
        import torch
        net = torch.nn.Linear(2, 1)
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        prod, manifest = self.save({"net": net, "opt": opt, "t": torch.zeros(2)}, ["net", "opt", "t"])
        cons = self.step("cons")
        net2, opt2 = cons.load("net", "prod"), cons.load("opt", "prod")
        # opt.step() must train the net the step has, as in the kernel.
        self.assertIs(opt2.param_groups[0]["params"][0], net2.weight)
        self.assertEqual(manifest["groups"], {"group-net": ["net", "opt"]})
        self.assertEqual(manifest["values"]["net"]["format"], "torch")
        self.assertEqual(manifest["values"]["t"]["file"], "t.pt")

    def test_a_group_that_cannot_be_saved_falls_back_to_single_values(self):
        a = [1]
        with unittest.mock.patch.object(di, "save_group", side_effect=di.MarshalError("refused")):
            prod, manifest = self.save({"a": a, "pair": [a, a]}, ["pair", "a"])
        self.assertNotIn("groups", manifest)
        self.assertEqual({v["file"] for v in manifest["values"].values()}, {"a.pkl", "pair.pkl"})
        cons = self.step("cons")
        self.assertEqual((cons.load("a", "prod"), cons.load("pair", "prod")), ([1], [[1], [1]]))

    def test_a_rerun_removes_the_old_group_file(self):
        a = [1]
        prod, _ = self.save({"a": a, "b": [a]}, ["a", "b"])
        self.assertTrue(os.path.exists(os.path.join(prod.dir, "group-a.pkl")))
        again, manifest = self.save({"a": [1], "b": [2]}, ["a", "b"])
        self.assertNotIn("groups", manifest)
        self.assertEqual(sorted(os.listdir(again.dir)), ["a.pkl", "b.pkl", "manifest.json"])


class TerminalShellTest(TempRoot):
    """`!cmd` runs under a pseudo-terminal, as ipykernel runs it (IPython's _process_posix.system)."""

    def sh(self, cmd, cwd=None):
        ns = main_ns()
        out = io.StringIO()
        here = os.getcwd()
        try:
            if cwd:
                os.chdir(cwd)
            with contextlib.redirect_stdout(out):
                exec("_di.sh(%r)" % cmd, ns)
        finally:
            os.chdir(here)
        return out.getvalue(), ns["_exit_code"]

    def folder(self, names):
        d = os.path.join(self.tmp, "files")
        os.makedirs(d)
        for n in names:
            open(os.path.join(d, n), "w").close()
        return d

    def test_ls_prints_columns_as_in_jupyter(self):
        self.assertEqual(self.sh("ls", cwd=self.folder(["a.png", "b.png"])), ("a.png  b.png\r\n", 0))

    def test_a_terminal_of_80_columns_with_the_kernel_environment(self):
        out, code = self.sh("test -t 1 && echo tty; test -t 2 && echo tty2; "
                            "%s -c 'import os; print(os.get_terminal_size(1))'; echo $PAGER $GIT_PAGER; exit 4"
                            % sys.executable)
        self.assertEqual(out, "tty\r\ntty2\r\nos.terminal_size(columns=80, lines=24)\r\ncat cat\r\n")
        self.assertEqual(code, 4)

    @need("pexpect")
    @need("IPython")
    def test_same_output_as_ipython_system(self):
        from IPython.utils._process_posix import ProcessHandler
        d = self.folder(["file_%02d_%s.csv" % (i, "x" * (i % 7)) for i in range(40)])
        for cmd in ("ls", "ls -l | head -3; ls nothing-here", "printf 'no newline'", "exit 3", "kill -TERM $$"):
            with self.subTest(cmd=cmd):
                out = io.StringIO()
                here = os.getcwd()
                os.chdir(d)
                try:
                    # IPython runs $SHELL, the runtime /bin/sh.
                    with unittest.mock.patch.dict(os.environ, {"SHELL": "/bin/sh"}), contextlib.redirect_stdout(out):
                        want_code = ProcessHandler().system(cmd)
                finally:
                    os.chdir(here)
                self.assertEqual(self.sh(cmd, cwd=d), (out.getvalue(), want_code))


class InheritedModulesTest(TempRoot):
    """A step binds the modules the steps it loads from had bound, so functions passed on find their globals."""

    def probe_module(self):
        # A module nothing has imported, to see when it is.
        name = "di_probe_%s" % os.urandom(4).hex()
        with open(os.path.join(self.tmp, name + ".py"), "w") as f:
            f.write("def double(x):\n    return 2 * x\n")
        sys.path.insert(0, self.tmp)
        self.addCleanup(sys.path.remove, self.tmp)
        self.addCleanup(sys.modules.pop, name, None)
        return name

    def test_rules_calling_re_in_a_later_step(self):
        rules = """
            _di_step = _di.Step("rules", notebook="nb.ipynb")
            _di_step.run_cell(1, "import re\\nRULES = {}\\n"
                                 "def rule(f):\\n    RULES[f.__name__] = f\\n    return f\\n"
                                 "@rule\\ndef no_digits(s):\\n    return re.sub(r'\\\\d', '', s)\\n", globals())
            _di_step.save(globals(), {"RULES": 1})
            _di_step.finish()
        """
        r = self.script("rules", rules)
        self.assertEqual(r.returncode, 0, r.stderr)
        # B passes RULES on without ever importing re; C loads from B only.
        r = self.script("passes", """
            _di_step = _di.Step("passes", notebook="nb.ipynb")
            RULES = _di_step.load("RULES", "rules")
            _di_step.run_cell(2, "more = dict(RULES)\\n", globals())
            _di_step.save(globals(), {"more": 2})
            _di_step.finish()
        """)
        self.assertEqual(r.returncode, 0, r.stderr)
        for producer, name in (("rules", "RULES"), ("passes", "more")):
            with self.subTest(producer=producer):
                r = self.script("use", """
                    _di_step = _di.Step("use_%s", notebook="nb.ipynb")
                    %s = _di_step.load(%r, %r)
                    _di_step.run_cell(3, "print([f('a1b22c') for f in %s.values()])\\n", globals())
                    _di_step.finish()
                """ % (producer, name, name, producer, name))
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout.strip(), "['abc']")
        manifest = di.read_manifest(os.path.join(self.root, "run1", "rules"))
        self.assertEqual(manifest["modules"]["re"], "re")
        self.assertNotIn("_di", manifest["modules"])
        self.assertNotIn("__builtins__", manifest["modules"])
        self.assertEqual(di.read_manifest(os.path.join(self.root, "run1", "passes"))["modules"]["re"], "re")

    def test_modules_are_imported_only_when_used(self):
        probe = self.probe_module()
        prod = self.step("prod")
        ns = main_ns()
        exec("import %s as pr\nimport json\nimport os.path\nn = 1\n" % probe, ns)
        prod.save(ns, {"n": 1})
        modules = di.read_manifest(prod.dir)["modules"]
        self.assertEqual({k: v for k, v in modules.items() if k in ("pr", "json", "os")},
                         {"pr": probe, "json": "json", "os": "os"})
        del sys.modules[probe]
        cons = self.step("cons")
        ns = main_ns(json="mine")
        ns["n"] = cons.load("n", "prod")
        cons.run_cell(1, "kind = type(pr).__name__\n", ns)
        self.assertIs(ns["os"], os)  # imported already: bound as it is
        self.assertEqual(ns["json"], "mine")  # the step binds the name itself
        self.assertEqual(ns["kind"], "_InheritedModule")
        self.assertNotIn(probe, sys.modules)
        cons.run_cell(2, "four = pr.double(2)\n", ns)
        self.assertEqual(ns["four"], 4)
        self.assertIs(ns["pr"], sys.modules[probe])
        # What it inherited, the step records in turn.
        cons.save(ns, {"four": 2})
        modules = di.read_manifest(cons.dir)["modules"]
        self.assertEqual(modules["pr"], probe)
        self.assertNotIn("json", modules)

    def test_the_later_step_wins_and_a_missing_module_says_so(self):
        a, b = self.step("a"), self.step("b")
        a.run_cell(1, "import json as mod\nx = 1\n", main_ns())
        a.save(main_ns(mod=__import__("json"), x=1), {"x": 1})
        b.run_cell(5, "y = 2\n", main_ns())
        b.save(main_ns(mod=__import__("textwrap"), gone=di._InheritedModule("di_no_such_module", "gone", {}), y=2),
               {"y": 5})
        cons = self.step("cons")
        ns = main_ns()
        ns["y"], ns["x"] = cons.load("y", "b"), cons.load("x", "a")
        ok = cons.run_cell(1, "mod.dedent\n", ns)
        self.assertTrue(ok)
        self.assertIs(ns["mod"], textwrap)
        self.assertFalse(cons.run_cell(2, "gone.thing\n", ns))
        err = cons._cells[-1]["outputs"][-1]
        self.assertEqual(err["ename"], "ImportError")
        self.assertIn("gone is module di_no_such_module", err["evalue"])

if __name__ == "__main__":
    unittest.main()


class RNGStateTest(TempRoot):
    """The global random generators' states pass between steps as pseudo-values, never bound."""

    def _pass(self, name, setup, draw):
        prod = self.script("prod", """
            _di_step = _di.Step("prod", notebook="nb.ipynb")
            _di_step.run_cell(1, %r, globals())
            _di_step.save(globals(), {%r: 1})
            _di_step.finish()
        """ % (setup, name))
        self.assertEqual(prod.returncode, 0, prod.stderr)
        cons = self.script("cons", """
            _di_step = _di.Step("cons", notebook="nb.ipynb")
            print(_di_step.load(%r, "prod"), %r in globals())
            _di_step.run_cell(2, %r, globals())
            _di_step.finish()
        """ % (name, name, draw))
        self.assertEqual(cons.returncode, 0, cons.stderr)
        first, drawn = cons.stdout.strip().split("\n", 1)
        self.assertEqual(first, "None False")
        # What one process gives running both cells.
        whole = subprocess.run([sys.executable, "-c", setup + "\n" + draw], stdout=subprocess.PIPE,
                               universal_newlines=True, check=True)
        self.assertEqual(drawn, whole.stdout.strip())
        return drawn

    def test_random_module(self):
        self._pass("__rng_random__", "import random\nrandom.seed(7)\nrandom.random()\n",
                   "import random\nprint(random.random(), random.randint(1, 100))\n")

    @need("numpy")
    def test_numpy_legacy_global(self):
        self._pass("__rng_numpy__", "import numpy as np\nnp.random.seed(42)\nnp.random.randint(1, 7, size=5)\n",
                   "import numpy as np\nprint(np.random.randint(1, 7, size=8), np.random.randn())\n")

    @need("torch")
    def test_torch_default_generator(self):
        self._pass("__rng_torch__", "import torch\ntorch.manual_seed(3)\ntorch.rand(2)\n",
                   "import torch\nprint(torch.rand(3).tolist(), torch.randint(0, 9, (2,)).tolist())\n")

    def test_state_is_saved_without_a_binding(self):
        import random
        state = random.getstate()
        try:
            random.seed(5)
            want = random.getstate()
            prod = self.step("prod")
            prod.save(main_ns(), {"__rng_random__": 1})
            self.assertEqual(di.read_manifest(prod.dir)["values"]["__rng_random__"]["cell"], 1)
            random.seed(6)
            ns = main_ns()
            self.assertIsNone(self.step("cons").load("__rng_random__", "prod"))
            self.assertEqual(random.getstate(), want)
            self.assertNotIn("__rng_random__", ns)
        finally:
            random.setstate(state)
