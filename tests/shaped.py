"""Tables shaped like the public datasets new users bring (issue 31), generated, no download.

- `credit_tables`: credit scoring (German-credit-like): integer ages and amounts, text
  categories with missing values, an ISO date column, target `risk` good/bad.
- `house_tables`: house prices (Ames-like) for regression: integer areas and years, a
  neighbourhood category, missing lot frontage, a sale date, target `SalePrice` in dollars.

Integer columns stay integers in the csv (pandas reads them as int64), as real exports do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def credit_tables(seed: int = 3, train_rows: int = 1200, eval_rows: int = 600) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = train_rows + eval_rows
    age = rng.integers(19, 76, size=n)
    duration = rng.integers(4, 73, size=n)
    amount = rng.integers(250, 18_000, size=n)
    income = rng.integers(300, 960, size=n).astype(float)
    income[rng.uniform(size=n) < 0.04] = np.nan
    housing = rng.choice(["own", "rent", "free"], size=n, p=[0.6, 0.3, 0.1]).astype(object)
    purpose = rng.choice(["car", "furniture", "radio/TV", "education", "business"], size=n)
    savings = rng.choice(["little", "moderate", "rich", "quite rich"], size=n).astype(object)
    savings[rng.uniform(size=n) < 0.15] = None
    applied = pd.Timestamp("2010-01-01") + pd.to_timedelta(rng.integers(0, 900, size=n), "D")
    logit = (
        -0.4
        + 0.03 * (duration - 20)
        + 0.00012 * (amount - 3000)
        - 0.025 * (age - 35)
        + 0.9 * (housing == "rent")
        - 0.6 * (savings == "rich")
        + rng.normal(0, 0.3, size=n)
    )
    bad = rng.uniform(size=n) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "Id": np.arange(1, n + 1),
            "Age": age,
            "Duration": duration,
            "CreditAmount": amount,
            "Income": income,
            "Housing": housing,
            "Purpose": purpose,
            "Savings": savings,
            "Applied": applied.strftime("%Y-%m-%d"),
            "risk": np.where(bad, "bad", "good"),
        }
    )
    return frame.iloc[:train_rows].reset_index(drop=True), frame.iloc[train_rows:].reset_index(
        drop=True
    )


def house_tables(seed: int = 5, train_rows: int = 900, eval_rows: int = 400) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = train_rows + eval_rows
    area = rng.integers(600, 3500, size=n)
    lot = rng.integers(2000, 20000, size=n)
    built = rng.integers(1900, 2010, size=n)
    quality = rng.integers(1, 11, size=n)
    hood = rng.choice(["NAmes", "CollgCr", "OldTown", "Edwards", "Somerst"], size=n)
    frontage = rng.integers(30, 120, size=n).astype(float)
    frontage[rng.uniform(size=n) < 0.15] = np.nan
    sold = pd.Timestamp("2006-01-01") + pd.to_timedelta(rng.integers(0, 1500, size=n), "D")
    price = (
        20_000
        + 70 * area
        + 1.5 * lot
        + 400 * (built - 1900)
        + 9_000 * quality
        + 25_000 * (hood == "Somerst")
        + rng.normal(0, 15_000, size=n)
    ).round()
    frame = pd.DataFrame(
        {
            "Id": np.arange(1, n + 1),
            "GrLivArea": area,
            "LotArea": lot,
            "YearBuilt": built,
            "OverallQual": quality,
            "Neighborhood": hood,
            "LotFrontage": frontage,
            "SoldOn": sold.strftime("%Y-%m-%d"),
            "SalePrice": price.astype(int),
        }
    )
    return frame.iloc[:train_rows].reset_index(drop=True), frame.iloc[train_rows:].reset_index(
        drop=True
    )


CREDIT_GATES = [{"metric": "roc_auc", "min": 0.55, "min_delta": -0.02}]
HOUSE_GATES = [{"metric": "rmse", "max": 60_000, "min_delta": -2_000}]


def write_project(
    root: Path,
    kind: str,
    *,
    estimator: str = "sklearn.ensemble.HistGradientBoostingClassifier",
    params: dict[str, Any] | None = None,
    tables: tuple[Any, Any] | None = None,
    store_template: Path | None = None,
) -> Path:
    """A project on `credit` or `house` data in `root`; the podium.yaml's path."""
    from tests.conftest import seed_store, sqlite_path

    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    credit = kind == "credit"
    train, evaluation = tables or (credit_tables() if credit else house_tables())
    train.to_csv(root / "data" / "train.csv", index=False)
    evaluation.to_csv(root / "data" / "eval.csv", index=False)
    if not credit and estimator.endswith("Classifier"):
        estimator = estimator.removesuffix("Classifier") + "Regressor"
    document = {
        "model": {
            "name": kind,
            "task": "classification" if credit else "regression",
            "estimator": {"class": estimator, "params": params or {"max_iter": 30}},
        },
        "data": {
            "train": "data/train.csv",
            "eval": "data/eval.csv",
            "target": "risk" if credit else "SalePrice",
            "exclude": ["Id"],
        },
        "gates": CREDIT_GATES if credit else HOUSE_GATES,
        "registry": {"tracking_uri": "sqlite:///.podium/mlflow.db"},
    }
    config = root / "podium.yaml"
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    db = sqlite_path("sqlite:///.podium/mlflow.db", root)
    if store_template is not None and db is not None:
        seed_store(db, store_template)
    return config
