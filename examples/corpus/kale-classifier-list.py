# %% [markdown]
# # Classifier comparison over a list of estimators (Kale-annotated)
# As in scikit-learn's classifier comparison example: names and
# classifiers in two parallel lists, fitted in one loop, scored in another.
# %% tags=["imports"]
import numpy as np
from sklearn.datasets import make_moons, make_circles
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.naive_bayes import GaussianNB
# %% tags=["pipeline-parameters"]
SEED = 42
# %% tags=["block:datasets"]
datasets = {
    "moons": make_moons(n_samples=200, noise=0.3, random_state=SEED),
    "circles": make_circles(n_samples=200, noise=0.2, factor=0.5, random_state=SEED),
}
X, y = datasets["moons"]
X = StandardScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, random_state=SEED)
print(X_train.shape, X_test.shape)
# %% tags=["block:classifiers"]
names = ["Nearest Neighbors", "RBF SVM", "Decision Tree", "Naive Bayes"]
classifiers = [
    KNeighborsClassifier(3),
    SVC(gamma=2, C=1, random_state=SEED),
    DecisionTreeClassifier(max_depth=5, random_state=SEED),
    GaussianNB(),
]
print(len(classifiers), "classifiers")
# %% tags=["block:fit"]
for clf in classifiers:
    clf.fit(X_train, y_train)
print("all fitted")
# %% tags=["block:score"]
scores = {}
for name, clf in zip(names, classifiers):
    scores[name] = clf.score(X_test, y_test)
    print(f"{name:<18} {scores[name]:.3f}")
best = max(scores, key=scores.get)
print("best:", best)
# %% tags=["block:circles", "prev:fit"]
Xc, yc = datasets["circles"]
Xc_train, Xc_test, yc_train, yc_test = train_test_split(Xc, yc, test_size=0.4, random_state=SEED)
for name, clf in zip(names, classifiers):
    clf.fit(Xc_train, yc_train)
    print(f"{name:<18} circles {clf.score(Xc_test, yc_test):.3f}")
# %% tags=["pipeline-metrics"]
print(best)
