# %% [markdown]
# # Quick look at exam scores
# No sections: one person's scratch analysis, top to bottom.
# %%
import statistics
import numpy as np
import pandas as pd
!echo "starting quick analysis"
# %%
rng = np.random.default_rng(8)
scores = pd.DataFrame({
    "student": [f"s{i:02d}" for i in range(30)],
    "math": rng.integers(40, 100, 30),
    "reading": rng.integers(35, 100, 30),
    "group": rng.choice(list("ABC"), 30),
})
scores["total"] = scores.math + scores.reading
print(scores.head().to_string())
# %%
%time ranked = scores.sort_values("total", ascending=False).reset_index(drop=True)
print(ranked.student.head(3).tolist())
# %%
for col in ["math", "reading"]:
    vals = scores[col].tolist()
    print(col, statistics.mean(vals), statistics.median(vals), round(statistics.stdev(vals), 3))
# %%
try:
    ratio = int(scores.math.sum()) / int(scores.loc[scores.group == "D", "reading"].sum())
except ZeroDivisionError:
    ratio = float("nan")
print("ratio:", ratio)
# %%
passed = scores[(scores.math >= 60) & (scores.reading >= 60)]
print(len(passed), "passed both")
print(passed.groupby("group").size().to_dict())
# %%
display(scores.describe())
grades = pd.cut(scores.total, [0, 120, 150, 170, 200], labels=["D", "C", "B", "A"])
print(grades.value_counts().sort_index().to_dict())
