"""The sample project behind `podium demo`: deterministic, generated, no download."""

from __future__ import annotations

import json
from pathlib import Path

TEMPLATE = "sample/podium.yaml.j2"


def templates_dir() -> Path:
    """Templates ship inside the wheel (podium/templates); a source checkout has them at top."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


def render_config(model_name: str, estimator_class: str, params: dict[str, object]) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        undefined=jinja2.StrictUndefined,
        variable_start_string="[[",
        variable_end_string="]]",
        keep_trailing_newline=True,
    )
    return env.get_template(TEMPLATE).render(
        model_name=model_name,
        estimator_class=estimator_class,
        estimator_params=json.dumps(params),
    )


def churn_tables(
    seed: int = 7, train_rows: int = 4000, eval_rows: int = 1500, price_skew: float = 1.0
) -> tuple[object, object]:
    """Synthetic customer churn with text categories, missing values and interactions.

    `price_skew` > 1 moves customers towards the expensive plans (charges stay within the
    usual 20–120 range): a drift the validate stage should notice, not a broken feed.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = train_rows + eval_rows
    plan = rng.choice(["monthly", "yearly", "two_year"], size=n, p=[0.55, 0.3, 0.15])
    tenure = rng.integers(0, 73, size=n)
    charges = np.round(20 + 100 * rng.beta(price_skew, 1.0, size=n), 2)
    if price_skew != 1.0:
        charges = np.clip(charges, 20.5, 119.5)
    calls = rng.poisson(1.5, size=n)
    region = rng.choice(["north", "south", "east", "west"], size=n)
    payment = rng.choice(["card", "bank", "paper_check"], size=n).astype(object)
    age = rng.integers(18, 81, size=n).astype(float)
    logit = (
        -1.0
        + 1.2 * (plan == "monthly")
        - 2.2 * (tenure > 12)  # new customers leave; a threshold, not a slope
        + 1.8 * ((charges > 90) & (tenure < 24))  # price shock early in the relationship
        + 2.0 * ((calls > 2) & (plan == "monthly"))  # an interaction a linear model misses
        + 1.2 * (payment == "paper_check") * (age > 60)
        + rng.normal(0, 0.3, size=n)
    )
    churned = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    payment[rng.uniform(size=n) < 0.03] = None
    age[rng.uniform(size=n) < 0.05] = np.nan
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(n)],
            "tenure_months": tenure,
            "monthly_charges": charges,
            "support_calls": calls,
            "plan": plan,
            "region": region,
            "payment": payment,
            "age": age,
            "churned": churned,
        }
    )
    return frame.iloc[:train_rows].reset_index(drop=True), frame.iloc[train_rows:].reset_index(
        drop=True
    )


def write_project(
    folder: Path,
    model_name: str,
    estimator_class: str,
    params: dict[str, object],
    month: int = 1,
) -> Path:
    """Write data/ and podium.yaml into `folder`; returns the config path.

    Month 1 writes the training and evaluation data; a later month replaces the training
    data with a newer sample in which charges rose (the evaluation data stays put, so
    champion and challenger are still judged on the same rows).
    """
    data_dir = folder / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    if month == 1 or not (data_dir / "eval.csv").exists():
        train, evaluation = churn_tables()
        train.to_csv(data_dir / "train.csv", index=False)  # type: ignore[attr-defined]
        evaluation.to_csv(data_dir / "eval.csv", index=False)  # type: ignore[attr-defined]
    if month > 1:
        newer, _ = churn_tables(seed=7 + month, price_skew=1.0 + 0.8 * (month - 1))
        newer.to_csv(data_dir / "train.csv", index=False)  # type: ignore[attr-defined]
    config = folder / "podium.yaml"
    config.write_text(render_config(model_name, estimator_class, params), encoding="utf-8")
    return config
