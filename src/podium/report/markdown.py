"""GitHub-flavoured markdown building blocks: numbers, escaped text, code spans, details.

Every value that reaches the comparison report or the monitoring issue goes through one
of these helpers, so escaping is decided here and nowhere else.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# The most characters a GitHub issue/PR comment body may hold.
GITHUB_COMMENT_LIMIT = 65_536

# Long tables stay readable (and comments small): failures first, then this many rows.
MAX_ROWS = 40


def size(text: str) -> int:
    """Length as GitHub counts it, conservatively (UTF-16 code units ≥ characters)."""
    return len(text.encode("utf-16-le")) // 2


def finite(value: Any) -> bool:
    """A real number (not None, a bool, NaN or ±inf)."""
    if value is None or isinstance(value, bool):
        return False
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return False
    return not (math.isnan(number) or math.isinf(number))


def as_float(value: Any) -> float:
    """A finite number, or 0 for anything else (sorting keys)."""
    return float(value) if finite(value) else 0.0


def num(value: Any) -> str:
    """Three decimals for scores, fewer for larger numbers, scientific for tiny ones."""
    if not finite(value):
        return "—"
    number = float(value)
    if number < 0:
        return "−" + num(-number)  # a typographic minus, like the deltas
    magnitude = abs(number)
    if magnitude >= 1000:
        return f"{number:,.0f}"
    if magnitude >= 10:
        return f"{number:.1f}"
    if magnitude >= 1:
        return f"{number:.2f}"
    if magnitude != 0 and magnitude < 0.001:
        return f"{number:.1e}"
    return f"{number:.3f}"


def delta(value: Any) -> str:
    """A signed difference: '+0.012', '−1.2', '±0'."""
    if not finite(value):
        return "—"
    number = float(value)
    if number == 0:
        return "±0"
    magnitude = abs(number)
    # A delta below 0.001 still reads as a plain decimal (+0.0007), not as 7.0e-04.
    shown = f"{magnitude:.4f}" if 0.0001 <= magnitude < 0.001 else num(magnitude)
    return ("+" if number > 0 else "−") + shown


def text(value: Any) -> str:
    """User-supplied text inside markdown/HTML: no tags, no table breaks, one line."""
    escaped = html.escape(" ".join(str(value).split()), quote=False)
    return escaped.replace("|", "\\|")


def code(value: Any) -> str:
    """Inline code that survives any content (backticks, pipes, HTML)."""
    inner = " ".join(str(value).split()).replace("|", "\\|")
    fence = "``" if "`" in inner else "`"
    pad = " " if inner.startswith("`") or inner.endswith("`") else ""
    return f"{fence}{pad}{inner}{pad}{fence}"


def short(value: Any, limit: int = 60) -> str:
    """A JSON value on one short line (observed values, examples)."""
    shown = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    shown = " ".join(str(shown).split())
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def plural(count: int, word: str) -> str:
    """'1 row', '4,000 rows'."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def details(summary: str, body: Sequence[str]) -> list[str]:
    """A collapsed block; blank lines around the body let GitHub render markdown inside."""
    return [f"<details><summary>{summary}</summary>", "", *body, "", "</details>"]


def more(shown: int, total: int, what: str, where: str | None = None) -> list[str]:
    """'… and 12 more checks' under a table cut at `shown` rows (nothing if none was cut)."""
    if total <= shown:
        return []
    rest = plural(total - shown, what)
    found = f" (all of them in {code(where)})" if where else ""
    return ["", f"_… and {rest} more{found}._"]


@dataclass(frozen=True)
class Section:
    """A block of the report; optional ones may be left out to fit a size limit."""

    name: str  # what a truncation note calls it
    text: str
    optional: bool


def join(sections: Sequence[Section]) -> str:
    """The document: sections separated by blank lines, ending in one newline."""
    return "\n\n".join(s.text for s in sections).rstrip() + "\n"


def cut(document: str, budget: int) -> str:
    """Whole lines of `document` that fit in `budget` characters (as GitHub counts them)."""
    kept: list[str] = []
    used = 0
    for line in document.splitlines():
        cost = size(line) + 1
        if used + cost > budget:
            break
        kept.append(line)
        used += cost
    return "\n".join(kept)
