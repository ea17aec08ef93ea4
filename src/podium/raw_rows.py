"""Raw values → the values a model is fitted on: one implementation of the conversions
`data.prepare` makes (numbers as float64, dates as seconds since the epoch, text
categories as str with missing values as NaN), shared with the registered model.

Self-contained — pandas and numpy only, imported inside the functions — so that it can be
pickled with a logged model by value (`raw_model`): a registered model loads without podium.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def as_number(series: pd.Series) -> pd.Series:
    """A numeric feature as float64: booleans, numbers, datetimes and ISO-date text (as
    seconds since the epoch); any other text as missing."""
    import pandas as pd

    if pd.api.types.is_float_dtype(series) and series.dtype == "float64":
        return series
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64")
    if pd.api.types.is_datetime64_any_dtype(series):
        return epoch_seconds(series)
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("float64")
    dates = iso_dates(series)
    if dates is not None:
        return epoch_seconds(dates)
    return pd.to_numeric(series, errors="coerce").astype("float64")


ISO_DATE = (
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)


def iso_dates(series: pd.Series) -> pd.Series | None:
    """Text that is entirely ISO 8601 dates/timestamps, as UTC datetimes; else None."""
    import pandas as pd

    present = series.dropna()
    first = present.head(100)
    # the first values decide most columns, before any pass over every row
    if present.empty or not all(isinstance(v, str) for v in first):
        return None
    if not first.astype(str).str.fullmatch(ISO_DATE).all():
        return None
    if not present.astype(str).str.fullmatch(ISO_DATE).all():
        return None
    try:
        return pd.to_datetime(series, utc=True, format="ISO8601")
    except (ValueError, OverflowError):
        return None  # e.g. 2024-13-45: not a date after all, keep it as text


def epoch_seconds(series: pd.Series) -> pd.Series:
    """Seconds since the epoch (UTC) whatever the unit: pandas 3 reads text as µs and
    parquet may hold ns or ms, yet train and eval must agree on the scale."""
    import pandas as pd

    naive = series.dt.tz_convert(None) if series.dt.tz is not None else series
    seconds = (naive - pd.Timestamp(0)) / pd.Timedelta(seconds=1)
    return seconds.astype("float64")


def as_text(series: pd.Series) -> pd.Series:
    """Text categories as Python str, missing as NaN; integral numbers print without '.0'."""
    import numpy as np
    import pandas as pd

    if isinstance(series.dtype, pd.StringDtype) or plain_text(series):
        # Each distinct value made a Python str once, then spread by its codes: millions of
        # rows hold a few categories, and a str object per row is most of the cost.
        codes, uniques = pd.factorize(series)
        distinct = np.append(np.asarray(uniques.astype(object), dtype=object), np.nan)
        return pd.Series(distinct.take(codes), index=series.index, name=series.name, dtype=object)

    def text(value: Any) -> Any:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return np.nan
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return series.astype(object).map(text).astype(object)


def plain_text(series: pd.Series) -> bool:
    """Object values that are all str, missing only as None or NaN (what `text` maps to
    NaN): factorizing them is exact (a str equals only the same str)."""
    import pandas as pd

    if series.dtype != object or pd.api.types.infer_dtype(series, skipna=True) != "string":
        return False
    missing = series[series.isna()]
    return all(v is None or isinstance(v, float) for v in missing)
