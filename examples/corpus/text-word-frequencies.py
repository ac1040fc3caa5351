# %% [markdown]
# # Word frequencies in a small set of reviews
# Tokenising by hand, counting with collections.Counter, and a few
# comprehension tricks.
# %%
import re
import string
from collections import Counter, defaultdict
# %% [markdown]
# ## The reviews
# %%
reviews = [
    "The coffee was great, the service was slow.",
    "Great coffee! Friendly staff and great cakes.",
    "Slow service, cold coffee. Not great.",
    "The cakes were dry but the coffee was strong.",
    "Friendly, fast, and the best coffee in town.",
    "Terrible parking. Good coffee though.",
    "Cakes, coffee, cookies: everything was fresh!",
    "The staff forgot my order; the cakes were stale.",
]
labels = [1, 1, 0, 0, 1, 0, 1, 0]
!echo "reviews loaded"
print(len(reviews), "reviews,", sum(labels), "positive")
# %% [markdown]
# ## Tokenise
# %%
STOP = {"the", "was", "and", "but", "in", "my", "were", "not", "though"}
punct = re.compile(f"[{re.escape(string.punctuation)}]")
def tokenize(text, drop_stop=True):
    words = punct.sub(" ", text.lower()).split()
    return [w for w in words if not (drop_stop and w in STOP)]
tokens = [tokenize(r) for r in reviews]
print(tokens[0])
print(sum(map(len, tokens)), "tokens")
# %% [markdown]
# ## Count
# %%
counts = Counter(w for doc in tokens for w in doc)
print(counts.most_common(6))
doc_freq = Counter()
for doc in tokens:
    doc_freq.update(set(doc))
print(sorted(((w, c) for w, c in doc_freq.items() if c >= 3), key=lambda t: (-t[1], t[0])))
# %%
by_label = defaultdict(Counter)
for doc, lab in zip(tokens, labels):
    by_label[lab].update(doc)
for lab in sorted(by_label):
    print(lab, by_label[lab].most_common(3))
# %% [markdown]
# ## Bigrams and lengths
# %%
bigrams = Counter((a, b) for doc in tokens for a, b in zip(doc, doc[1:]))
print(bigrams.most_common(3))
lengths = {i: len(r.split()) for i, r in enumerate(reviews)}
longest = max(lengths, key=lengths.get)
print("longest review:", longest, reviews[longest])
# %%
vocab = sorted(counts)
index = {w: i for i, w in enumerate(vocab)}
vectors = [[doc.count(w) for w in vocab] for doc in tokens]
print(len(vocab), "words in the vocabulary")
print(vectors[1][:10])
!echo "vocabulary size: {len(vocab)}"
