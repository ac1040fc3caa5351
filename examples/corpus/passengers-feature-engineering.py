# %% [markdown]
# # Passenger survival: feature engineering
# A Titanic-like table made up on the spot. The classic tutorial moves:
# titles out of names, filling ages by group, binning, one-hot encoding,
# and treating train and test the same way in one loop.
# %%
import re
import numpy as np
import pandas as pd
# %% [markdown]
# ## Make the tables
# %%
rng = np.random.default_rng(2024)
titles = ["Mr", "Mrs", "Miss", "Master", "Dr"]
surnames = ["Smith", "Jones", "Brown", "Taylor", "Wilson", "Evans", "Thomas"]
def make_people(n, seed):
    r = np.random.default_rng(seed)
    t = r.choice(titles, n, p=[0.45, 0.25, 0.2, 0.07, 0.03])
    df = pd.DataFrame({
        "PassengerId": np.arange(1, n + 1),
        "Name": [f"{r.choice(surnames)}, {ti}. {chr(65 + i % 26)}" for i, ti in enumerate(t)],
        "Sex": np.where(np.isin(t, ["Mrs", "Miss"]), "female", "male"),
        "Age": np.round(r.normal(30, 12, n).clip(1, 80)),
        "Pclass": r.integers(1, 4, n),
        "Fare": np.round(r.gamma(2.0, 15.0, n), 2),
        "Embarked": r.choice(["S", "C", "Q"], n),
    })
    df.loc[r.random(n) < 0.15, "Age"] = np.nan
    df.loc[r.random(n) < 0.03, "Embarked"] = np.nan
    return df
train_df = make_people(300, 1)
test_df = make_people(120, 2)
train_df["Survived"] = ((train_df.Sex == "female") | (train_df.Pclass == 1)).astype(int)
combine = [train_df, test_df]
print(train_df.shape, test_df.shape)
print(train_df.isna().sum().to_string())
# %% [markdown]
# ## Titles
# %%
for dataset in combine:
    dataset["Title"] = dataset.Name.str.extract(r" ([A-Za-z]+)\.", expand=False)
    dataset["Title"] = dataset["Title"].replace({"Dr": "Rare"})
print(pd.crosstab(train_df["Title"], train_df["Sex"]))
# %%
title_map = {"Mr": 1, "Miss": 2, "Mrs": 3, "Master": 4, "Rare": 5}
for dataset in combine:
    dataset["Title"] = dataset["Title"].map(title_map).fillna(0).astype(int)
print(train_df[["Title", "Survived"]].groupby("Title", as_index=False).mean().round(3))
# %% [markdown]
# ## Missing values
# %%
median_age = train_df.groupby(["Sex", "Pclass"]).Age.median()
print(median_age.round(1))
for dataset in combine:
    for (sex, pclass), age in median_age.items():
        mask = dataset.Age.isna() & (dataset.Sex == sex) & (dataset.Pclass == pclass)
        dataset.loc[mask, "Age"] = age
    dataset["Embarked"] = dataset["Embarked"].fillna(train_df.Embarked.mode()[0])
print(train_df.Age.isna().sum(), test_df.Age.isna().sum())
# %% [markdown]
# ## Bins and encodings
# %%
for dataset in combine:
    dataset["AgeBand"] = pd.cut(dataset.Age, bins=[0, 16, 32, 48, 64, 100], labels=False)
    dataset["FareBand"] = pd.qcut(dataset.Fare, 4, labels=False)
    dataset["Sex"] = dataset.Sex.map({"female": 1, "male": 0})
print(train_df[["AgeBand", "Survived"]].groupby("AgeBand").mean().round(3))
# %%
features = ["Pclass", "Sex", "AgeBand", "FareBand", "Title"]
X_train = pd.get_dummies(train_df[features + ["Embarked"]], columns=["Embarked"])
X_test = pd.get_dummies(test_df[features + ["Embarked"]], columns=["Embarked"])
X_test = X_test.reindex(columns=X_train.columns, fill_value=0)
print(list(X_train.columns))
print(X_train.head(3).to_string())
# %% [markdown]
# ## A quick model
# %%
from sklearn.linear_model import LogisticRegression
clf = LogisticRegression(max_iter=500)
clf.fit(X_train, train_df.Survived)
print("train accuracy", round(clf.score(X_train, train_df.Survived), 4))
pred = clf.predict(X_test)
print("predicted survivors", int(pred.sum()), "of", len(pred))
