# %% [markdown]
# # A loop target is an element of what the loop walks
# `for clf in classifiers: clf.fit(…)` fits the estimators the list holds: the target is
# each element in turn, not a copy. So a known in-place method called on the target
# (fit, partial_fit, set_params, append, update, …) changes the list: fit loads
# classifiers and saves it, and score loads it from fit, as running the notebook does.
# A method not known to change its object (`clf.get_params()`, `clf.score(…)`) changes
# nothing the loop walks: describe and score only read classifiers, and describe sits
# beside fit. refit_copies rebinds its target to a clone before fitting: what it fits
# is no element, and score still loads classifiers from fit.
# %% tags=["imports"]
import types

from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
# %% tags=["block:data"]
# ins: -  outs: X_test X_train y_test y_train
X, y = make_classification(n_samples=60, n_features=4, random_state=0)
X_train, X_test, y_train, y_test = X[:40], X[40:], y[:40], y[40:]
# %% tags=["block:classifiers"]
# ins: -  outs: classifiers
classifiers = [KNeighborsClassifier(3), SVC(), DecisionTreeClassifier(random_state=0)]
# %% tags=["block:describe"]
# ins: classifiers(classifiers)  outs: -
for clf in classifiers:
    print(type(clf).__name__, len(clf.get_params()))
# %% tags=["block:fit"]
# ins: X_train(data) classifiers(classifiers) y_train(data)  outs: classifiers
for clf in classifiers:
    clf.fit(X_train, y_train)
# %% tags=["block:refit_copies"]
# ins: X_test(data) X_train(data) classifiers(fit) y_test(data) y_train(data)  outs: -
for clf in classifiers:
    clf = clone(clf)
    clf.fit(X_test, y_test)
    print(round(clf.score(X_train, y_train), 3))
# %% tags=["block:score"]
# ins: X_test(data) classifiers(fit) y_test(data)  outs: -
for clf in classifiers:
    print(round(clf.score(X_test, y_test), 3))
# %% [markdown]
# ## Dict values, enumerate, zip, comprehensions
# The second element of `models.items()`, each of `models.values()`, the second of
# `enumerate(ranked)`, each part of `zip(tags, tagged)` and a comprehension's target are
# elements too. Stores into a target (`rec["rank"] = i`, `c.n += 1`) change what it
# walks, and so does a function that changes its argument (`mark(rec)`). So
# fit_models, fit_scalers and annotate save what they change, and the steps after them
# load it from them.
# %% tags=["block:models"]
# ins: -  outs: models scalers
models = {"stump": DecisionTreeClassifier(max_depth=1, random_state=0), "full": DecisionTreeClassifier(random_state=0)}
scalers = [StandardScaler(), MinMaxScaler()]
# %% tags=["block:fit_models"]
# ins: X_train(data) models(models) y_train(data)  outs: models
for name, model in models.items():
    model.fit(X_train, y_train)
# %% tags=["block:fit_scalers"]
# ins: X_train(data) scalers(models)  outs: scalers
print(len([s.fit(X_train) for s in scalers]))
# %% tags=["block:depths"]
# ins: X_test(data) models(fit_models) scalers(fit_scalers)  outs: -
for model in models.values():
    print(model.get_depth())
for s in scalers:
    print(s.transform(X_test[:1]).round(2).tolist())
# %% tags=["block:records"]
# ins: -  outs: counters marked ranked tagged tags
ranked = [{"s": 3}, {"s": 9}]
tags = ["low", "high"]
tagged = [{}, {}]
marked = [{}, {}]
counters = [types.SimpleNamespace(n=0), types.SimpleNamespace(n=5)]
# %% tags=["block:annotate"]
# ins: counters(records) marked(records) ranked(records) tagged(records) tags(records)  outs: counters marked ranked tagged
def mark(rec):
    rec["seen"] = True


for i, rec in enumerate(ranked):
    rec["rank"] = i
for tag, rec in zip(tags, tagged):
    rec["tag"] = tag
for rec in marked:
    mark(rec)
for c in counters:
    c.n += 1
# %% tags=["block:report"]
# ins: counters(annotate) marked(annotate) ranked(annotate) tagged(annotate)  outs: -
print(ranked, tagged, marked, [c.n for c in counters])
