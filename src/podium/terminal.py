"""What a person at a terminal sees: a rendered summary, not the report's markdown source.

The markdown report is for GitHub (PR comments, job summaries) and `.podium/report.md`;
printed raw in a terminal it is a wall of pipes and a Mermaid chart's source (issue 31).
In a terminal, `podium run` and `podium demo` print the verdict, the gates table, what
changed and where the full report is, drawn with `rich`; `--format md` (or output that
is not a terminal: a pipe, a log, CI) keeps the markdown.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from podium.results import Evaluation, Promotion, Validation

FORMATS = ("auto", "md")


def rendered(fmt: str, stream: TextIO | None = None) -> bool:
    """Whether to print the rendered summary: `--format auto` on a terminal."""
    stream = stream or sys.stdout
    return fmt == "auto" and stream.isatty()


def summary(
    *,
    model_name: str,
    validation: Validation | None,
    evaluation: Evaluation | None,
    promotion: Promotion | None,
    report_path: str | None,
) -> list[Any]:
    """The summary as rich renderables: verdict, gates table, what changed, the report."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from podium import report

    parts: list[Any] = []
    if evaluation is None:  # the data failed validation: nothing was trained
        lines = Text(f"❌ podium · {model_name} — the data failed validation\n", style="bold")
        for check in validation.checks if validation else []:
            if not check.passed:
                lines.append(f"✗ {check.name}: {check.detail}\n", style="red")
        parts.append(Panel(lines, border_style="red"))
    else:
        title, verdict = report.headline(evaluation, promotion, model_name=model_name, plain=True)
        good = evaluation.passed is True
        body = Text(title + "\n", style="bold")
        body.append(verdict)
        if evaluation.paused:
            body.append(f"\n⏸ paused — {evaluation.paused}", style="yellow")
        parts.append(Panel(body, border_style="green" if good else "red"))
        cells = report.metrics_table_cells(evaluation)
        table = Table(show_edge=False, header_style="bold")
        for index, head in enumerate(cells[0]):
            table.add_column(head, justify="right" if index in (1, 2, 3) else "left")
        for row in cells[1:]:
            mark = row[-1]
            style = "green" if mark == "✓" else "red" if mark == "✗" else None
            table.add_row(*row[:-1], Text(mark, style=style or ""))
        parts.append(table)
    changed = _what_changed(validation, promotion)
    if changed:
        parts.append(Text("What changed", style="bold"))
        parts.extend(Text(f"  • {line}") for line in changed)
    if report_path:
        parts.append(Text(f"full report: {report_path}", style="dim"))
    return parts


def _what_changed(validation: Validation | None, promotion: Promotion | None) -> list[str]:
    """The data's changes worth a line: drift, type changes, notes; why nothing moved."""
    lines: list[str] = []
    if validation is not None:
        lines += [f"{c.name}: {c.detail}" for c in validation.checks if c.name == "drift"]
        lines += list(validation.notes[:5])
    if promotion is not None and promotion.promoted is not True and promotion.reason:
        lines.append(f"not promoted: {promotion.reason}")
    return lines


def print_summary(parts: list[Any], stream: TextIO | None = None) -> None:
    from rich.console import Console

    console = Console(file=stream or sys.stdout, highlight=False, soft_wrap=False)
    console.print()
    for part in parts:
        console.print(part)


@contextmanager
def progress(enabled: bool) -> Iterator[Callable[[str], None]]:
    """A `say` for long stages: each stage's line, with a spinner on stderr while it runs
    (a terminal only; otherwise the lines alone, as logs want them)."""
    if not enabled:
        yield lambda line: print(line, flush=True)
        return
    from rich.console import Console

    console = Console(file=sys.stderr, highlight=False)
    with console.status("starting", spinner="dots") as status:

        def say(line: str) -> None:
            console.print(f"[dim]•[/dim] {line}", highlight=False, markup=True)
            status.update(f"{line} …")

        yield say
