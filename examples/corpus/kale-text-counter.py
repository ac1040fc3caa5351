# %% [markdown]
# # Counting words in support tickets (Kale-annotated)
# %% tags=["imports"]
import re
from collections import Counter, OrderedDict
import pandas as pd
# %% tags=["pipeline-parameters"]
MIN_COUNT = 2
TOP_K = 5
# %% tags=["functions"]
STOPWORDS = frozenset("a an and the to is it my of on in for with not i".split())
WORD = re.compile(r"[a-z']+")

def tokens(text):
    return [w for w in WORD.findall(text.lower()) if w not in STOPWORDS]

def ngrams(words, n=2):
    return list(zip(*(words[i:] for i in range(n))))
# %% tags=["block:tickets"]
tickets = pd.DataFrame({
    "id": range(1, 13),
    "queue": ["billing", "tech", "tech", "billing", "account", "tech",
              "account", "billing", "tech", "tech", "account", "billing"],
    "text": [
        "I was charged twice for my subscription",
        "The app crashes when I open the settings page",
        "App crashes on login, please fix the crash",
        "Refund the double charge on my card",
        "I cannot reset my password",
        "Settings page is blank after the update",
        "Password reset email never arrives",
        "Invoice shows the wrong amount charged",
        "Login fails with an error after the update",
        "The update broke the app on my phone",
        "How do I change the email on my account",
        "Charged for a plan I cancelled",
    ],
})
print(tickets.groupby("queue").size().to_dict())
# %% tags=["block:tokenize"]
tickets["tokens"] = tickets.text.map(tokens)
tickets["n_tokens"] = tickets.tokens.str.len()
print(tickets[["id", "n_tokens"]].T.to_string(header=False))
# %% tags=["block:count_words"]
word_counts = Counter()
for toks in tickets.tokens:
    word_counts.update(toks)
frequent = OrderedDict((w, c) for w, c in word_counts.most_common() if c >= MIN_COUNT)
print(list(frequent.items())[:TOP_K])
vocab_size = len(word_counts)
print("vocabulary:", vocab_size)
# %% tags=["block:per_queue"]
per_queue = {q: Counter(w for toks in grp.tokens for w in toks).most_common(3)
             for q, grp in tickets.groupby("queue")}
for q, top in per_queue.items():
    print(q, top)
# %% tags=["block:bigrams", "prev:tokenize"]
bigram_counts = Counter(bg for toks in tickets.tokens for bg in ngrams(toks))
print([(" ".join(bg), c) for bg, c in bigram_counts.most_common(TOP_K) if c > 1])
# %% tags=["skip"]
print(word_counts.most_common(50))
# %% tags=["block:keywords"]
keywords = {"billing": {"charged", "charge", "refund", "invoice"}, "tech": {"crashes", "crash", "update", "app"},
            "account": {"password", "reset", "email", "account"}}
def guess(toks):
    scores = {q: len(kw.intersection(toks)) for q, kw in keywords.items()}
    return max(sorted(scores), key=lambda q: scores[q])
tickets["guess"] = tickets.tokens.map(guess)
keyword_accuracy = (tickets.guess == tickets.queue).mean()
print(tickets[["queue", "guess"]].value_counts().sort_index().to_string())
print("keyword accuracy", round(keyword_accuracy, 3))
# %% tags=["pipeline-metrics"]
print(vocab_size)
print(keyword_accuracy)
