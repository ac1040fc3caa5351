# %% [markdown]
# # A list of names holds those very values
# `combine = [train_df, test_df]` holds the two frames themselves, as in the Kaggle
# Titanic notebooks: `for dataset in combine: dataset["Title"] = …` adds the column to
# train_df and test_df. A name bound to a list, tuple, set or dict display of plain
# names forms a may-alias group with them: a step that changes one of them changes
# all, so titles loads and saves combine, train_df and test_df, and the steps after
# it load each from titles (one step's save keeps the values that share objects
# together). Reading members changes nothing: peek_train and peek_test sit side by side.
# %% tags=["imports"]
import pandas as pd
# %% tags=["block:tables"]
# ins: -  outs: combine test_df train_df
train_df = pd.DataFrame({"Name": ["Braund, Mr. Owen", "Cumings, Mrs. John", "Heikkinen, Miss. Laina"],
                         "Sex": ["male", "female", "female"]})
test_df = pd.DataFrame({"Name": ["Kelly, Mr. James", "Wilkes, Mrs. James"], "Sex": ["male", "female"]})
combine = [train_df, test_df]
# %% tags=["block:titles"]
# ins: combine(tables) test_df(tables) train_df(tables)  outs: combine test_df train_df
for dataset in combine:
    dataset["Title"] = dataset.Name.str.extract(r" ([A-Za-z]+)\.", expand=False)
print(pd.crosstab(train_df["Title"], train_df["Sex"]))
# %% tags=["block:peek_train"]
# ins: train_df(titles)  outs: -
print(train_df.shape)
# %% tags=["block:peek_test"]
# ins: test_df(titles)  outs: -
print(test_df["Title"].tolist())
# %% [markdown]
# ## A change of a member changes the group
# encode adds a column to train_df, which is combine's first element: it loads and
# saves the whole group, and check loads combine and test_df from it.
# %% tags=["block:encode"]
# ins: combine(titles) test_df(titles) train_df(titles)  outs: combine test_df train_df
train_df["Male"] = (train_df["Sex"] == "male").astype(int)
# %% tags=["block:check"]
# ins: combine(encode) test_df(encode)  outs: -
print(combine[0].columns.tolist(), test_df.columns.tolist())
# %% [markdown]
# ## A rebound name leaves the group
# drop rebinds train_df to a new frame (a projection; `train_df.drop(…)` would also be
# a method call on the old frame, which may change it): combine still holds the old
# one. after_drop
# changes combine's frames, so it loads and saves combine and test_df, but train_df,
# which is no longer among them, it only reads (from drop). A display of other
# expressions (`[train_df["Name"].tolist(), …]`, new lists; likewise a call such as
# list(…), which the analysis does not follow) makes no group: appending to its
# elements in projections changes neither frame, and last loads test_df from
# after_drop.
# %% tags=["block:drop"]
# ins: train_df(encode)  outs: train_df
train_df = train_df[["Name", "Title", "Male"]]
# %% tags=["block:after_drop"]
# ins: combine(encode) test_df(encode) train_df(drop)  outs: test_df
for dataset in combine:
    dataset["Len"] = dataset["Name"].str.len()
print(combine[0].columns.tolist(), train_df.columns.tolist())
# %% tags=["block:projections"]
# ins: test_df(after_drop) train_df(drop)  outs: -
name_lists = [train_df["Name"].tolist(), test_df["Name"].tolist()]
for names in name_lists:
    names.append("Doe, Mr. John")
print([len(names) for names in name_lists])
# %% tags=["block:last"]
# ins: test_df(after_drop)  outs: -
print(test_df.columns.tolist())
# %% [markdown]
# ## A group made after its members; tuples and dicts
# pair binds `pair = (a, b)` and `index = {"c": c}` in a step after raw made a, b and
# c: making the group touches its members, so pair loads and saves them, and grow,
# which changes an element of pair (`pair[0].append(5)`) and one of index, loads and
# saves both groups from pair. show loads all five from grow.
# %% tags=["block:raw"]
# ins: -  outs: a b c
a, b, c = [1], [2], [3]
# %% tags=["block:pair"]
# ins: a(raw) b(raw) c(raw)  outs: a b c index pair
pair = (a, b)
index = {"c": c}
# %% tags=["block:grow"]
# ins: a(pair) b(pair) c(pair) index(pair) pair(pair)  outs: a b c index pair
pair[0].append(5)
index["c"].append(6)
# %% tags=["block:show"]
# ins: a(grow) b(grow) c(grow) index(grow) pair(grow)  outs: -
print(a, b, c, pair, index)
