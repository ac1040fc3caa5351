# %% [markdown]
# # House prices: regression with cross-validation
# %%
import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, cross_val_score, train_test_split
from sklearn.linear_model import Ridge, Lasso, LinearRegression
from sklearn.preprocessing import StandardScaler, OneHotEncoder
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.metrics import mean_absolute_error, r2_score
# %% [markdown]
# ## Data
# %%
rng = np.random.default_rng(11)
n = 500
houses = pd.DataFrame({
    "sqft": rng.normal(1600, 450, n).round(),
    "bedrooms": rng.integers(1, 6, n),
    "age": rng.integers(0, 80, n),
    "district": rng.choice(["old_town", "riverside", "hills"], n),
})
base = {"old_town": 180.0, "riverside": 240.0, "hills": 300.0}
houses["price"] = (houses.sqft * houses.district.map(base) / 1000 * 1000
                   - houses.age * 900 + houses.bedrooms * 5000 + rng.normal(0, 20000, n)).round(-2)
print(houses.describe().round(1).to_string())
# %%
houses["log_price"] = np.log(houses.price)
houses["sqft_per_room"] = houses.sqft / houses.bedrooms
print(houses[["price", "log_price", "sqft_per_room"]].corr().round(3))
# %% [markdown]
# ## Train and test
# %%
numeric = ["sqft", "bedrooms", "age", "sqft_per_room"]
categorical = ["district"]
X = houses[numeric + categorical]
y = houses["price"]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
print(len(X_train), len(X_test))
pre = ColumnTransformer([
    ("num", StandardScaler(), numeric),
    ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
])
# %% [markdown]
# ## Cross-validation
# %%
kf = KFold(n_splits=5, shuffle=True, random_state=42)
cv_results = {}
for name, reg in [("linear", LinearRegression()), ("ridge", Ridge(alpha=1.0)), ("lasso", Lasso(alpha=50.0, max_iter=5000))]:
    scores = cross_val_score(make_pipeline(pre, reg), X_train, y_train, cv=kf, scoring="r2")
    cv_results[name] = scores
    print(f"{name:<7} r2 {scores.mean():.4f} +- {scores.std():.4f}")
# %%
best_name = max(cv_results, key=lambda k: cv_results[k].mean())
print("best:", best_name)
# %% [markdown]
# ## Final model
# %%
final = make_pipeline(pre, {"linear": LinearRegression(), "ridge": Ridge(alpha=1.0), "lasso": Lasso(alpha=50.0, max_iter=5000)}[best_name])
final.fit(X_train, y_train)
pred = final.predict(X_test)
print("MAE", round(mean_absolute_error(y_test, pred), 1))
print("R2 ", round(r2_score(y_test, pred), 4))
# %%
coefs = final[-1].coef_
names = final[0].get_feature_names_out()
for n_, c in sorted(zip(names, coefs), key=lambda t: -abs(t[1]))[:5]:
    print(f"{n_:<22} {c:12.1f}")
