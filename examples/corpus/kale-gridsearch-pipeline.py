# metadata: {"kubeflow_notebook": {"pipeline_name": "breast-cancer-like-gridsearch", "pipeline_description": "Grid search over a scaler + SVC pipeline", "experiment_name": "corpus", "docker_image": ""}}
# %% [markdown]
# # Grid search over a preprocessing + classifier pipeline (Kale-annotated)
# %% tags=["imports"]
import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split, GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.decomposition import PCA
from sklearn.svm import SVC
from sklearn.metrics import classification_report, accuracy_score, confusion_matrix
# %% tags=["pipeline-parameters"]
TEST_SIZE = 0.25
CV_FOLDS = 4
SEED = 13
C_GRID = [0.1, 1.0, 10.0]
# %% tags=["block:load_data"]
X, y = make_classification(n_samples=400, n_features=20, n_informative=8, weights=[0.6, 0.4],
                           flip_y=0.02, random_state=SEED)
frame = pd.DataFrame(X, columns=[f"f{i:02d}" for i in range(X.shape[1])])
frame["target"] = y
print(frame.shape)
print(frame.target.value_counts().to_dict())
# %% tags=["skip"]
frame.describe()
# %% tags=["block:split", "prev:load_data"]
features = [c for c in frame.columns if c != "target"]
X_train, X_test, y_train, y_test = train_test_split(
    frame[features], frame["target"], test_size=TEST_SIZE, stratify=frame["target"], random_state=SEED)
print(X_train.shape, X_test.shape)
print(round(y_train.mean(), 4), round(y_test.mean(), 4))
# %% tags=["block:grid_search"]
pipe = Pipeline([("scale", StandardScaler()), ("pca", PCA(random_state=SEED)), ("svc", SVC())])
grid = {"pca__n_components": [5, 10], "svc__C": C_GRID, "svc__kernel": ["linear", "rbf"]}
search = GridSearchCV(pipe, grid, cv=StratifiedKFold(CV_FOLDS, shuffle=True, random_state=SEED),
                      scoring="accuracy", n_jobs=1)
search.fit(X_train, y_train)
print(search.best_params_)
print(round(search.best_score_, 4))
# %%
results = pd.DataFrame(search.cv_results_)[["param_pca__n_components", "param_svc__C", "param_svc__kernel",
                                             "mean_test_score", "rank_test_score"]]
print(results.sort_values("rank_test_score").head(4).round(4).to_string(index=False))
# %% tags=["block:evaluate"]
best = search.best_estimator_
pred = best.predict(X_test)
test_accuracy = accuracy_score(y_test, pred)
print(confusion_matrix(y_test, pred))
print(classification_report(y_test, pred, digits=3))
# %% tags=["block:explain", "prev:grid_search"]
pca = best.named_steps["pca"]
print(np.round(pca.explained_variance_ratio_, 3))
print("components kept:", pca.n_components_)
# %% tags=["pipeline-metrics"]
test_accuracy
