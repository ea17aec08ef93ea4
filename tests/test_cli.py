"""The command line: fast start-up, help, exit codes of usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Project, run_cli

HEAVY = (
    "mlflow",
    "sklearn",
    "pandas",
    "great_expectations",
    "numpy",
    "pydantic",
    "github",
    "scipy",
)


def test_help_imports_nothing_heavy() -> None:
    probe = (
        "import sys, json, contextlib, io\n"
        "from podium.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


@pytest.mark.parametrize(
    "command",
    ["validate", "train", "evaluate", "report", "promote", "rollback", "history", "run", "demo"],
)
def test_every_command_has_help(command: str) -> None:
    result = run_cli([command, "--help"])
    assert result.code == 0
    assert command in result.out


def test_version() -> None:
    from podium import __version__

    result = run_cli(["--version"])
    assert result.code == 0 and __version__ in result.out


def test_usage_errors_are_one_line_exit_2() -> None:
    for args in (["frobnicate"], [], ["history", "--bogus"], ["run", "--no-prom"]):
        result = run_cli(args)
        assert result.code == 2, args
        assert len(result.err.strip().splitlines()) == 1, result.err
        assert "podium" in result.err


def test_missing_config_file_names_it(tmp_path) -> None:
    result = run_cli(["train", "--config", str(tmp_path / "nope.yaml")])
    assert result.code == 2
    assert "nope.yaml" in result.err and "--config" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_output_piped_into_a_reader_that_quits_is_no_traceback(project: Project) -> None:
    # `podium history --json | head -3` printed a BrokenPipeError traceback.
    reader_gone = subprocess.Popen(
        [sys.executable, "-m", "podium", "history", "--json", "--config", str(project.config_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert reader_gone.stdout is not None
    reader_gone.stdout.close()  # before podium has started up: its first print breaks the pipe
    _, err = reader_gone.communicate(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert reader_gone.returncode == 141  # as a shell reports a program SIGPIPE stopped


def test_the_process_s_own_command_leaves_its_objects_to_the_exit_uncollected(
    tmp_path: Path,
) -> None:
    """A command run as the process (argv None) freezes the cyclic collector before the
    interpreter's exit (its full collections cost seconds with MLflow loaded); a caller
    passing argv (tests, embedders) keeps collecting."""
    script = f"""
import gc, json, sys
from podium.cli import main
found = {{}}
from podium import warmup
code = main(["validate", "--config", {str(tmp_path / "none.yaml")!r}])
found["argv"] = [code, gc.isenabled(), gc.get_freeze_count(), warmup.freeze_imports]
sys.argv = ["podium", "validate", "--config", {str(tmp_path / "none.yaml")!r}]
code = main()
found["process"] = [code, gc.isenabled(), gc.get_freeze_count() > 0, warmup.freeze_imports]
print(json.dumps(found))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    # and only the process's own command freezes what the warmup imported (podium.warmup)
    assert found == {"argv": [2, True, 0, False], "process": [2, False, True, True]}


# -- issue 31: a terminal gets a rendered summary, not the report's markdown ------------------


def _in_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    import os
    import pty
    import subprocess
    import sys

    main, child = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    process = subprocess.Popen(
        [sys.executable, "-m", "podium", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    return process.wait(timeout=300), b"".join(chunks).decode("utf-8", "replace")


def test_run_in_a_terminal_prints_a_rendered_summary_and_markdown_elsewhere(
    project: Project,
) -> None:
    code, shown = _in_a_terminal(["run", "--config", str(project.config_path)], project.root)
    assert code == 0, shown
    assert "| metric |" not in shown and "xychart" not in shown  # no markdown source
    assert "challenger v1 is the new champion (first champion)" in shown
    assert "roc_auc" in shown and "✓" in shown
    assert f"full report: {project.state / 'report.md'}" in shown
    assert "| metric |" in (project.state / "report.md").read_text()  # the file keeps it
    code, shown = _in_a_terminal(
        ["run", "--format", "md", "--config", str(project.config_path)], project.root
    )
    assert code == 0 and "| metric |" in shown
    piped = project.cli("run")  # not a terminal: the markdown, as CI logs want it
    assert piped.code == 0 and "| metric |" in piped.out
