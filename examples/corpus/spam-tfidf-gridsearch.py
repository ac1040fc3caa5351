# %% [markdown]
# # Spam or not: TF-IDF + linear models with a grid search
# %%
import random
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer, CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.metrics import f1_score
# %% [markdown]
# ## Messages
# %%
random.seed(1)
ham_words = "meeting lunch tomorrow project report call thanks family weekend dinner review notes".split()
spam_words = "free winner prize claim cash offer urgent click credit bonus now limited".split()
def message(words, k):
    return " ".join(random.choice(words) for _ in range(k))
messages = [message(ham_words, random.randint(4, 9)) for _ in range(150)] + \
           [message(spam_words + ham_words[:3], random.randint(4, 9)) for _ in range(90)]
is_spam = np.array([0] * 150 + [1] * 90)
print(len(messages), messages[0], "|", messages[-1])
# %% [markdown]
# ## Split
# %%
train_msgs, test_msgs, y_train, y_test = train_test_split(messages, is_spam, test_size=0.3,
                                                          stratify=is_spam, random_state=2)
print(len(train_msgs), len(test_msgs), y_train.sum(), y_test.sum())
# %% [markdown]
# ## Vocabulary
# %%
cv = CountVectorizer()
counts = cv.fit_transform(train_msgs)
vocab = cv.get_feature_names_out()
print(len(vocab), list(vocab[:8]))
top = np.asarray(counts.sum(axis=0)).ravel().argsort()[::-1][:5]
print([vocab[i] for i in top])
# %% [markdown]
# ## Grid search
# %%
pipe = Pipeline([("tfidf", TfidfVectorizer()), ("clf", LogisticRegression(max_iter=1000))])
params = [
    {"tfidf__ngram_range": [(1, 1), (1, 2)], "clf": [LogisticRegression(max_iter=1000)], "clf__C": [0.1, 1, 10]},
    {"tfidf__ngram_range": [(1, 1)], "clf": [MultinomialNB()], "clf__alpha": [0.1, 1.0]},
]
search = GridSearchCV(pipe, params, cv=3, scoring="f1")
%time search.fit(train_msgs, y_train)
print(search.best_params_)
print(round(search.best_score_, 4))
# %% [markdown]
# ## Test set
# %%
pred = search.predict(test_msgs)
print("test f1", round(f1_score(y_test, pred), 4))
wrong = [m for m, p, t in zip(test_msgs, pred, y_test) if p != t]
print(len(wrong), "mistakes", wrong[:2])
print(search.predict(["free prize claim now", "project meeting tomorrow"]).tolist())
