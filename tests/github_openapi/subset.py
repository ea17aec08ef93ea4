"""Cut GitHub's OpenAPI description down to the operations the fake GitHub serves.

The full description (13 MB, `@octokit/openapi`) lives outside the repository in
../shared/github-openapi; the tests must hold the fake to it on any machine, so the
operations podium calls — with every schema, parameter, response and example they
reference — are committed here as `api.github.com.json`, cut by this script, unchanged
otherwise. `tests/test_github.py` checks the committed cut against the full description
whenever that is present.

    python -m tests.github_openapi.subset ../shared/github-openapi/api.github.com.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CUT = HERE / "api.github.com.json"

# (path template, method) of every call podium makes, as the description spells them.
OPERATIONS = (
    ("/repos/{owner}/{repo}/pulls/{pull_number}", "get"),
    ("/repos/{owner}/{repo}/issues/{issue_number}/comments", "get"),
    ("/repos/{owner}/{repo}/issues/{issue_number}/comments", "post"),
    ("/repos/{owner}/{repo}/issues/comments/{comment_id}", "patch"),
    ("/repos/{owner}/{repo}/issues", "get"),
    ("/repos/{owner}/{repo}/issues", "post"),
    ("/repos/{owner}/{repo}/issues/{issue_number}", "patch"),
    ("/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", "post"),
    ("/repos/{owner}/{repo}/statuses/{sha}", "post"),
    ("/repos/{owner}/{repo}/actions/runs/{run_id}/approvals", "get"),
    ("/repos/{owner}/{repo}/rules/branches/{branch}", "get"),
)
# Examples the fake builds its answers from (beyond those the operations reference).
EXAMPLES = ("issue-comment", "issue", "pull-request", "status")


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def cut(full: dict[str, Any]) -> dict[str, Any]:
    """The description with only OPERATIONS and what they reference (transitively)."""
    paths: dict[str, Any] = {}
    for template, method in OPERATIONS:
        item = full["paths"][template]
        kept = paths.setdefault(template, {k: v for k, v in item.items() if k == "parameters"})
        kept[method] = item[method]
    wanted = {f"#/components/examples/{name}" for name in EXAMPLES}
    _refs(paths, wanted)
    components: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    while wanted - seen:
        ref = sorted(wanted - seen)[0]
        seen.add(ref)
        _, _, kind, name = ref.split("/", 3)
        value = full["components"][kind][name]
        components.setdefault(kind, {})[name] = value
        _refs(value, wanted)
    return {
        **{
            k: v
            for k, v in full.items()
            if k not in {"paths", "components", "webhooks", "x-webhooks", "tags"}
        },
        "paths": paths,
        "components": {kind: dict(sorted(items.items())) for kind, items in components.items()},
    }


def main(argv: list[str]) -> int:
    full = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    CUT.write_text(json.dumps(cut(full), indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {CUT} ({CUT.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
