"""GitHub-flavoured markdown building blocks: numbers, escaped text, code spans, details.

Every value that reaches the comparison report or the monitoring issue goes through one
of these helpers, so escaping is decided here and nowhere else. The values are hostile
by assumption: the comment workflow renders results that a fork's pull request uploaded.
`text` (prose and table cells), `code` (names and paths), `version_label`, `link` (targets
podium built) and `chart_label` (Mermaid) each leave a value no way to add markup, links, HTML,
mentions or lines of its own.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

# The most characters a GitHub issue/PR comment body may hold.
GITHUB_COMMENT_LIMIT = 65_536

# Long tables stay readable (and comments small): failures first, then this many rows.
MAX_ROWS = 40

# The longest a single value is shown (a table cell, a name, a path), in characters.
MAX_TEXT = 1000
MAX_CODE = 300

# Characters that reorder or hide what is shown (bidi overrides and isolates) or drive a
# terminal (C0/C1 controls other than whitespace): each is shown as U+FFFD instead.
_HIDDEN = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# What GitHub turns into a notification or a link by itself: @user and @org/team
# mentions (and e-mail autolinks), #123 references, bare URLs. A zero-width space after
# the trigger breaks each of them and shows nothing; the entity survives HTML blocks too.
_ZWSP = "&#8203;"
_MENTION = re.compile(r"@(?=\w)")
_REFERENCE = re.compile(r"#(?=\d)")
_BARE_URL = re.compile(r"(?i)\b(https?|ftp|www)(?=://|\.)")

# Characters a link target may hold as they are; anything else is percent-encoded, so
# a target can never close the link (`)`, whitespace, `<`) or the table cell (`|`).
_URL_SAFE = "!#$%&'*+,/:;=?@~-._"

# Mermaid chart labels: letters, digits and plain punctuation only; no quote, fence,
# `#` (Mermaid's entity escapes), `%` (directives) or line break.
_CHART_UNSAFE = re.compile(r"[^\w .+\-()/]")


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
    if magnitude >= 1e15:  # not a score: keep the cell short (1e300 would be 400 digits)
        return f"{number:.2e}"
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


def one_line(value: Any, limit: int = MAX_TEXT) -> str:
    """`value` as plain text on one line: whitespace collapsed, hidden characters shown as
    U+FFFD, at most `limit` characters. For status descriptions, issue titles, terminals."""
    shown = _HIDDEN.sub("\ufffd", " ".join(str(value).split()))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def text(value: Any, limit: int = MAX_TEXT) -> str:
    """User-supplied text inside markdown/HTML: no tags, no table breaks, one line.

    Nothing in it is markup: HTML is escaped, `[`/`]` cannot open a link, backticks no
    code span, `|` no table cell; mentions, #references and bare URLs stay inert.
    """
    escaped = html.escape(one_line(value, limit), quote=False)
    for char in "\\`[]|":
        escaped = escaped.replace(char, "\\" + char)
    escaped = _REFERENCE.sub("#" + _ZWSP, escaped)  # before the entities below add digits
    escaped = _MENTION.sub("@" + _ZWSP, escaped)
    return _BARE_URL.sub(lambda m: m.group(1) + _ZWSP, escaped)


def code(value: Any, limit: int = MAX_CODE) -> str:
    """Inline code that survives any content (backticks, pipes, HTML): its fence is one
    backtick longer than the longest run of backticks inside."""
    inner = one_line(value, limit).replace("|", "\\|")
    # Inert inside the span, but a marker-like `<!--` must not appear in the raw comment.
    inner = inner.replace("<!--", "<!\u200b--")
    if not inner:
        return "—"
    longest = max((len(run) for run in re.findall("`+", inner)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if inner.startswith("`") or inner.endswith("`") else ""
    return f"{fence}{pad}{inner}{pad}{fence}"


def version_label(value: Any, *, plain: bool = False) -> str:
    """'v14' for a model version: its digits as they are, anything else escaped as text
    (`plain`: as one line of plain text, for a terminal or a commit status)."""
    shown = str(value)
    if re.fullmatch("[0-9]+", shown):
        return "v" + shown
    return "v" + (one_line(value, 40) if plain else text(value, 40))


def url(value: Any) -> str | None:
    """An http(s) address made safe as a link target, or None for anything else."""
    shown = str(value)
    try:
        parts = urlsplit(shown)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    if parts.scheme.lower() not in {"http", "https"} or not host:
        return None
    return quote(shown, safe=_URL_SAFE)


def link(label: str, target: Any) -> str:
    """`[label](target)` — `label` is markdown podium wrote (escape values in it first);
    a target that is not an http(s) address leaves the label alone, unlinked."""
    address = url(target) if target else None
    return f"[{label}]({address})" if address else label


def chart_label(value: Any, limit: int = 80) -> str:
    """A double-quoted Mermaid string that cannot end the string, the line or the chart."""
    cleaned = _CHART_UNSAFE.sub("", one_line(value, limit))
    return f'"{cleaned}"'


def is_true(value: Any) -> bool:
    """Only `true` passes: NaN, "yes", 1 or a missing value never count as passed."""
    return value is True


def count(value: Any) -> int:
    """A whole, finite count for display (0 for anything else, e.g. 1e999 or "many")."""
    return int(as_float(value))


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
