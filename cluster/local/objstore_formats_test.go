package local

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/internal/s3store"
	"github.com/datainsight/datainsight/internal/testenv"
)

// formatsNotebook passes a value of every format the step runtime has
// (bar keras, which Debian does not package) from two producers to one
// consumer, which checks each value against what it was when saved: a
// value that comes back wrong fails the check step with the assertion.
const formatsNotebook = `# %% tags=["imports"]
import numpy as np
import pandas as pd
import torch
import xgboost as xgb
from sklearn.linear_model import LogisticRegression
# %% tags=["block:plain"]
arr = np.arange(12, dtype=np.int32).reshape(3, 4)
frame = pd.DataFrame({"a": [1.5, 2.5, 3.5], "b": ["x", "y", "z"]})
series = pd.Series([4, 5, 6], name="s")
meta = {"k": [1, 2], "t": (3, "four")}
def shift(x):
    return x + 7
class Counter:
    def __init__(self, n):
        self.n = n
    def more(self):
        return self.n + 1
counter = Counter(41)
# %% tags=["block:models"]
torch.manual_seed(0)
tensor = torch.arange(6, dtype=torch.float32).reshape(2, 3)
net = torch.nn.Linear(3, 1)
scripted = torch.jit.script(torch.nn.Linear(3, 1))
feats = np.array([[0.0], [1.0], [2.0], [3.0]])
labels = np.array([0, 0, 1, 1])
clf = LogisticRegression().fit(feats, labels)
dmat = xgb.DMatrix(feats, label=labels.astype(float))
booster = xgb.train({"objective": "reg:squarederror", "max_depth": 2}, dmat, num_boost_round=3)
with torch.no_grad():
    expect = {"net": net(torch.ones(1, 3)).item(), "scripted": scripted(torch.ones(1, 3)).item(),
              "clf": clf.predict_proba(feats).tolist(), "booster": booster.predict(dmat).tolist()}
# %% tags=["block:check"]
def close(a, b):
    return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=0, atol=1e-6)
assert type(arr) is np.ndarray and arr.dtype == np.int32 and arr.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]], arr
assert isinstance(frame, pd.DataFrame) and frame["a"].tolist() == [1.5, 2.5, 3.5] and frame["b"].tolist() == ["x", "y", "z"], frame
assert isinstance(series, pd.Series) and series.name == "s" and series.tolist() == [4, 5, 6], series
assert meta == {"k": [1, 2], "t": (3, "four")}, meta
assert shift(1) == 8
assert counter.more() == 42 and type(counter).__name__ == "Counter"
assert isinstance(tensor, torch.Tensor) and tensor.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], tensor
with torch.no_grad():
    assert isinstance(net, torch.nn.Linear) and close(net(torch.ones(1, 3)).item(), expect["net"])
    assert isinstance(scripted, torch.jit.ScriptModule) and close(scripted(torch.ones(1, 3)).item(), expect["scripted"])
assert close(clf.predict_proba(feats), expect["clf"])
assert isinstance(dmat, xgb.DMatrix) and dmat.num_row() == 4 and dmat.get_label().tolist() == [0.0, 0.0, 1.0, 1.0]
assert isinstance(booster, xgb.Booster) and close(booster.predict(xgb.DMatrix(feats)), expect["booster"])
print("checked", len(expect), "models and the plain values")
`

// Every marshal format through the store: each value is uploaded under
// its producer's step beside the manifest that names its format, and the
// consumer, given only what it downloaded from the store, gets each back
// as it was.
func TestStoreFormats(t *testing.T) {
	l := newLocal(t)
	if err := exec.Command(l.Python, "-c", "import numpy, pandas, dill, torch, xgboost, sklearn, joblib").Run(); err != nil {
		testenv.Missing(t, "%s lacks numpy, pandas, dill, torch, xgboost or scikit-learn: %v", l.Python, err)
	}
	cfg, client := storeFor(t, "formats", "nb")
	l.Store = cfg
	p := compile(t, formatsNotebook, "formats.ipynb")
	r := runToEnd(t, l, p, cluster.SubmitOptions{})
	for _, s := range r.Steps {
		if s.Phase != cluster.Succeeded {
			t.Fatalf("run %s: step %s %s (%s):\n%s", r.ID, s.Name, s.Phase, s.Message, logsOf(t, l, r.ID, s.Name))
		}
	}
	check := logsOf(t, l, r.ID, "check")
	if !strings.Contains(check, "checked 4 models and the plain values") {
		t.Errorf("check's log does not say it checked the values:\n%s", check)
	}
	for _, producer := range []string{"plain", "models"} {
		if !strings.Contains(check, "from s3://formats/nb/"+r.ID+"/"+producer+" (") {
			t.Errorf("check's log does not say it downloaded the values of %s from the store:\n%s", producer, check)
		}
	}

	store, err := s3store.Open(context.Background(), *cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Parquet needs pyarrow, which Debian does not package: pandas values
	// fall back to pickle.
	want := map[string]map[string]string{
		"plain": {"arr": "npy", "frame": "pickle", "series": "pickle", "meta": "pickle", "shift": "dill", "counter": "dill"},
		"models": {"tensor": "torch", "net": "torch", "scripted": "torchscript", "clf": "joblib",
			"dmat": "dmatrix", "booster": "xgboost", "feats": "npy", "expect": "pickle"},
	}
	for step, values := range want {
		m, err := store.Manifest(context.Background(), r.ID, step)
		if err != nil {
			t.Errorf("run %s: manifest of %s in the store: %v", r.ID, step, err)
			continue
		}
		keys := objectKeys(t, client, "formats", "nb/"+r.ID+"/"+step+"/")
		for name, format := range values {
			v, ok := m.Values[name]
			if !ok {
				t.Errorf("run %s: the manifest of %s in the store has no %s: %v", r.ID, step, name, m.Names())
				continue
			}
			if v.Format != format {
				t.Errorf("run %s: %s/%s is %s (type %s), want %s", r.ID, step, name, v.Format, v.Type, format)
			}
			if !contains(keys, v.File) {
				t.Errorf("run %s: the store has no %s/%s for value %s; it has %v", r.ID, step, v.File, name, keys)
			}
		}
	}
}
