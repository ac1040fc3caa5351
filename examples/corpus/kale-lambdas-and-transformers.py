# %% [markdown]
# # Lambdas everywhere: FunctionTransformer, dicts of functions, sort keys (Kale-annotated)
# %% tags=["imports"]
import numpy as np
import pandas as pd
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score
# %% tags=["pipeline-parameters"]
ALPHA = 0.5
CLIP = 3.0
# %% tags=["block:data"]
rng = np.random.default_rng(6)
frame = pd.DataFrame({"income": rng.lognormal(10, 0.6, 300), "age": rng.integers(18, 90, 300),
                      "visits": rng.poisson(3, 300)})
frame["spend"] = 0.02 * frame.income ** 0.9 + 3 * frame.visits + rng.normal(0, 20, 300)
print(frame.describe().round(1).loc[["mean", "max"]].to_string())
# %% tags=["block:transforms"]
transforms = {
    "income": lambda s: np.log1p(s),
    "age": lambda s: (s // 10) * 10,
    "visits": lambda s: s.clip(upper=CLIP * s.median()),
}
clipper = FunctionTransformer(lambda a: np.clip(a, -CLIP, CLIP))
print(sorted(transforms), clipper.func(np.array([-5.0, 0.0, 5.0])))
# %% tags=["block:apply"]
X = pd.DataFrame({col: fn(frame[col]) for col, fn in transforms.items()})
y = frame.spend
print(X.head(3).round(3).to_string())
# %% tags=["block:model"]
pipe = make_pipeline(StandardScaler(), clipper, Ridge(alpha=ALPHA))
cv_r2 = cross_val_score(pipe, X, y, cv=5).mean()
pipe.fit(X, y)
print(round(cv_r2, 4), np.round(pipe[-1].coef_, 3))
# %% tags=["block:predict"]
new = pd.DataFrame({"income": [20000.0, 80000.0], "age": [25, 61], "visits": [1, 12]})
new_X = pd.DataFrame({c: transforms[c](new[c]) for c in sorted(transforms, key=lambda c: -len(c))})[list(X.columns)]
print(np.round(pipe.predict(new_X), 2))
ranking = sorted(zip(X.columns, pipe[-1].coef_), key=lambda t: abs(t[1]), reverse=True)
print([name for name, _ in ranking])
# %% tags=["pipeline-metrics"]
print(cv_r2)
