# metadata: {"kubeflow_notebook": {"pipeline_name": "param-types", "docker_image": "python:3.11", "experiment_name": "corpus", "volumes": []}}
# %% [markdown]
# # Pipeline parameters of every literal type (Kale-annotated)
# %% tags=["imports"]
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import PolynomialFeatures
from sklearn.pipeline import make_pipeline
# %% tags=["pipeline-parameters"]
N_SAMPLES = 240
NOISE = 0.35
OFFSET = -1.5
DEGREE = 2
USE_POLY = True
CLASS_NAMES = ["low", "high"]
WEIGHTS = {"low": 1.0, "high": 2.0}
MAX_ITER = None
TITLE = "ring data"
# %% tags=["block:make"]
rng = np.random.default_rng(N_SAMPLES)
pts = rng.uniform(-2, 2, (N_SAMPLES, 2))
radius = np.hypot(pts[:, 0], pts[:, 1]) + rng.normal(0, NOISE, N_SAMPLES)
target = (radius + OFFSET > 0).astype(int)
frame = pd.DataFrame(pts, columns=["u", "v"]).assign(label=np.array(CLASS_NAMES)[target])
print(TITLE.title(), frame.shape)
print(frame.label.value_counts().sort_index().to_dict())
# %% tags=["block:fit"]
steps = [PolynomialFeatures(DEGREE)] if USE_POLY else []
model = make_pipeline(*steps, LogisticRegression(max_iter=MAX_ITER or 200, class_weight=WEIGHTS))
model.fit(frame[["u", "v"]], frame.label)
train_accuracy = model.score(frame[["u", "v"]], frame.label)
print([type(s).__name__ for s in model], round(train_accuracy, 4))
# %% tags=["block:probe"]
probe = pd.DataFrame({"u": [0.0, 1.5, -1.9], "v": [0.1, 1.5, 0.0]})
print(model.predict(probe).tolist())
print(np.round(model.predict_proba(probe)[:, list(model.classes_).index("high")], 3))
# %% tags=["pipeline-metrics"]
print(train_accuracy)
