"""The model card of a version: one typed record, filled only from what podium recorded.

Sources, in the order they are read (`collect`): the version's registry tags (written by
train, evaluate, the champion moves and `podium reproduce`), its run (parameters, metrics,
the `podium/*.json` artifacts, the evaluation podium logged at promotion) and the audit
trail. A fact none of them holds is None, and every rendering shows it as "not recorded":
nothing is taken from today's podium.yaml or guessed.

`render(card, fmt)` is pure: markdown (values escaped by `podium.report.markdown`), JSON
(the record itself) or HTML (jinja2 with autoescaping).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from podium import resources
from podium.registry import tags

if TYPE_CHECKING:
    from podium.config import Config
    from podium.registry import Event, Registry, Version
    from podium.results import Evaluation, Validation

NOT_RECORDED = "not recorded"
FORMATS = ("md", "json", "html")
# The card as artifacts of the version's run (written at promotion).
MARKDOWN_ARTIFACT = "model_card.md"
JSON_ARTIFACT = "model_card.json"
# The evaluation the version was promoted on, logged beside the card (intervals, slices).
EVALUATION_ARTIFACT = "podium/evaluation.json"
IMPORTANCE_ARTIFACT = "podium/importance.json"
DATA_ARTIFACT = "podium/data.json"
FEATURES_ARTIFACT = "podium/features.json"
TOP_FEATURES = 10


class _Card(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Identity(_Card):
    name: str
    version: str
    kind: str | None = None  # estimator | entrypoint | command
    source: str | None = None  # class path, entrypoint or command
    flavors: list[str] = Field(default_factory=list)
    task: str | None = None
    created: str | None = None
    commit: str | None = None
    dirty: bool | None = None
    dirty_files: list[str] = Field(default_factory=list)
    pr: str | None = None
    workflow_run: str | None = None
    repository: str | None = None
    podium_version: str | None = None
    # registry.keep_versions took its files off the branch's tip: the commit that holds them
    pruned_in: str | None = None
    run_id: str | None = None
    params: dict[str, str] = Field(default_factory=dict)


class Purpose(_Card):
    description: str | None = None
    owners: list[str] = Field(default_factory=list)
    intended_use: str | None = None
    limitations: str | None = None


class Column(_Card):
    name: str
    role: str  # "target" | "feature"
    kind: str | None = None


class Table(_Card):
    sha256: str | None = None
    rows: int | None = None
    columns: int | None = None


class DataFacts(_Card):
    train: Table = Field(default_factory=Table)
    eval: Table = Field(default_factory=Table)
    columns: list[Column] = Field(default_factory=list)
    validation: str | None = None
    drift: str | None = None


class Metric(_Card):
    name: str
    value: float | None = None
    champion: float | None = None
    delta: float | None = None
    interval: str | None = None  # the bootstrap interval of the difference
    gate: str | None = None  # "passed" / "failed: …" for a gated metric


class SliceRow(_Card):
    slice: str
    rows: int
    metrics: dict[str, float] = Field(default_factory=dict)
    passed: bool | None = None


class Performance(_Card):
    against: str | None = None  # the champion version it was compared with ("" = none)
    evaluated_at: str | None = None
    metrics: list[Metric] = Field(default_factory=list)
    slices: list[SliceRow] = Field(default_factory=list)
    detectable: list[str] = Field(default_factory=list)  # smallest detectable differences
    significance: str | None = None


class Feature(_Card):
    feature: str
    importance: float
    std: float


class Verdict(_Card):
    verdict: str | None = None
    summary: str | None = None


class Move(_Card):
    at: str
    action: str
    version: str
    previous: str | None = None
    actor: str
    triggering_actor: str | None = None
    approvers: list[str] | None = None  # None: not recorded; []: no reviewer
    reason: str
    commit: str | None = None
    run_url: str | None = None


class Reproduction(_Card):
    verdict: str  # "reproduced" | "not reproduced"
    at: str
    cause: str | None = None
    commit: str | None = None
    by: str | None = None


class ModelCard(_Card):
    """Everything podium recorded about one model version, by section."""

    identity: Identity
    purpose: Purpose = Field(default_factory=Purpose)
    data: DataFacts = Field(default_factory=DataFacts)
    performance: Performance = Field(default_factory=Performance)
    explainability: list[Feature] = Field(default_factory=list)
    explainability_metric: str | None = None
    resources: dict[str, float] = Field(default_factory=dict)
    verdict: Verdict = Field(default_factory=Verdict)
    moves: list[Move] = Field(default_factory=list)
    reproduction: Reproduction | None = None
    champion: bool = False


# ------------------------------------------------------------------------- collecting


def collect(
    registry: Registry,
    version: Version,
    *,
    evaluation: Evaluation | None = None,
    validation: Validation | None = None,
) -> ModelCard:
    """The card of `version` from the registry (and, at promotion, the evaluation and
    validation in hand, when they are about this version)."""
    found = version.tags
    run: Any = None
    run_id = version.run_id
    if run_id:
        run = registry.call("reading the run", lambda: registry.client.get_run(run_id))
    metrics = {str(k): float(v) for k, v in run.data.metrics.items()} if run else {}
    params = {str(k): str(v) for k, v in run.data.params.items()} if run else {}

    def artifact(path: str) -> dict[str, Any] | None:
        return registry.run_json(version.run_id, path) if version.run_id else None

    if evaluation is None or evaluation.challenger.version != version.version:
        logged = artifact(EVALUATION_ARTIFACT)
        evaluation = _evaluation(logged)
    champion = registry.champion()
    card = ModelCard(
        identity=_identity(registry, version, found, params),
        purpose=_purpose(found),
        data=_data(found, artifact(FEATURES_ARTIFACT), validation, evaluation),
        performance=_performance(found, metrics, evaluation),
        resources={k: v for k, v in metrics.items() if k in resources.RESOURCES},
        verdict=Verdict(
            verdict=found.get(tags.VERDICT),
            summary=evaluation.summary if evaluation else None,
        ),
        moves=_moves(registry, version.version),
        reproduction=_reproduction(found),
        champion=champion is not None and champion.version == version.version,
    )
    if validation is None:  # the data checks as the card written at promotion saw them
        _keep_checks(card.data, artifact(JSON_ARTIFACT))
    ranking = _ranking(evaluation, artifact(IMPORTANCE_ARTIFACT))
    if ranking is not None:
        card.explainability_metric = str(ranking.get("metric") or "") or None
        card.explainability = [
            Feature(feature=str(f["feature"]), importance=f["importance"], std=f["std"])
            for f in ranking.get("features", [])[:TOP_FEATURES]
        ]
    return card


def _keep_checks(facts: DataFacts, written: dict[str, Any] | None) -> None:
    from pydantic import ValidationError

    if written is None:
        return
    try:
        before = ModelCard.model_validate(written).data
    except ValidationError:
        return
    if before.train.sha256 == facts.train.sha256:
        facts.validation, facts.drift = before.validation, before.drift
        facts.train.columns = facts.train.columns or before.train.columns


def _evaluation(logged: dict[str, Any] | None) -> Evaluation | None:
    if logged is None:
        return None
    from pydantic import ValidationError

    from podium.results import Evaluation

    try:
        return Evaluation.model_validate(logged)
    except ValidationError:
        return None  # logged by another podium: the card falls back to the run's metrics


def _identity(
    registry: Registry, version: Version, found: Mapping[str, str], params: Mapping[str, str]
) -> Identity:
    source = params.get("podium.estimator")
    kind = found.get(tags.MODEL_KIND)
    own = {k.removeprefix("estimator."): v for k, v in params.items() if k.startswith("estimator.")}
    dirty_files: list[str] = []
    listed = found.get(tags.DIRTY_FILES, "")
    try:  # a JSON list, or gha.provenance's "a, b, … (+N)"
        dirty_files = [str(p) for p in json.loads(listed)]
    except (ValueError, TypeError):
        dirty_files = [p for p in listed.split(", ") if p]
    dirty = found.get(tags.DIRTY)
    return Identity(
        name=registry.name,
        version=version.version,
        kind=kind,
        source=source,
        flavors=_flavors(registry, version),
        task=found.get(tags.TASK),
        created=_iso(version.created_ms),
        commit=found.get(tags.PROVENANCE_PREFIX + "git_commit"),
        dirty=None if dirty is None else dirty.strip().lower() in {"true", "1", "yes"},
        dirty_files=dirty_files,
        pr=found.get(tags.PR),
        workflow_run=found.get(tags.PROVENANCE_PREFIX + "workflow_run"),
        repository=found.get(tags.PROVENANCE_PREFIX + "repository"),
        podium_version=found.get(tags.PODIUM_VERSION),
        pruned_in=found.get(tags.PRUNED),
        run_id=version.run_id,
        params=own,
    )


def _flavors(registry: Registry, version: Version) -> list[str]:
    """The MLflow flavors the logged model was saved with (its MLmodel file)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    with registry.translated("reading the model's MLmodel"):
        try:
            flavors = mlflow.models.get_model_info(version.source).flavors
        except (MlflowException, OSError):  # an unreadable MLmodel: "not recorded"
            return []
    return sorted(str(name) for name in flavors)


def _iso(ms: int | None) -> str | None:
    from datetime import UTC, datetime

    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _purpose(found: Mapping[str, str]) -> Purpose:
    try:
        recorded = json.loads(found.get(tags.PURPOSE, "{}"))
    except ValueError:
        recorded = {}
    if not isinstance(recorded, dict):
        return Purpose()
    owners = recorded.get("owners") or []
    return Purpose(
        description=_str(recorded.get("description")),
        owners=[str(o) for o in owners] if isinstance(owners, list) else [str(owners)],
        intended_use=_str(recorded.get("intended_use")),
        limitations=_str(recorded.get("limitations")),
    )


def purpose_tag(
    description: str | None,
    owners: list[str] | str | None,
    intended_use: str | None,
    limitations: str | None,
) -> str | None:
    """The value of `podium.purpose` (None when podium.yaml says nothing of it)."""
    given = {
        "description": description,
        "owners": [owners] if isinstance(owners, str) else owners,
        "intended_use": intended_use,
        "limitations": limitations,
    }
    kept = {k: v for k, v in given.items() if v}
    return json.dumps(kept)[:5000] if kept else None


def training_tags(config: Config) -> dict[str, str]:
    """What train records on a version for its card: purpose, target and model kind."""
    model = config.model
    kind = "command" if model.command else "entrypoint" if model.entrypoint else "estimator"
    found = {tags.TARGET: config.data.target, tags.MODEL_KIND: kind}
    purpose = purpose_tag(model.description, model.owners, model.intended_use, model.limitations)
    if purpose is not None:
        found[tags.PURPOSE] = purpose
    return found  # whether the tree was dirty: gha.provenance, recorded beside these


def _str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _data(
    found: Mapping[str, str],
    features: dict[str, Any] | None,
    validation: Validation | None,
    evaluation: Evaluation | None,
) -> DataFacts:
    kinds = tags.read_feature_types(found) or (
        {str(k): str(v) for k, v in features.items()} if features else {}
    )
    columns = [Column(name=found[tags.TARGET], role="target")] if found.get(tags.TARGET) else []
    columns += [Column(name=name, role="feature", kind=kind) for name, kind in kinds.items()]
    train = Table(
        sha256=found.get(tags.TRAIN_SHA256), rows=_int(found.get(tags.TRAIN_ROWS)), columns=None
    )
    held = Table(
        sha256=found.get(tags.EVAL_SHA256), rows=_int(found.get(tags.EVAL_ROWS)), columns=None
    )
    facts = DataFacts(train=train, eval=held, columns=columns)
    if evaluation is not None and evaluation.eval.sha256 == held.sha256:
        facts.eval.columns = evaluation.eval.columns
    if validation is not None and validation.train.sha256 == train.sha256:
        failed = [c.name for c in validation.checks if not c.passed]
        facts.train.columns = validation.train.columns
        facts.validation = (
            f"passed: {len(validation.checks)} checks"
            if validation.passed
            else f"failed: {', '.join(failed)}"
        )
        if validation.expectations is not None:
            facts.validation += f"; expectation suite {validation.expectations.suite}"
        if validation.drift is not None:
            drift = validation.drift
            judged = {True: "passed", False: "failed", None: "not gated"}[drift.passed]
            facts.drift = (
                f"{judged}: {drift.drifted_share:.0%} of features drifted against "
                f"v{drift.reference_version}"
            )
    return facts


def _performance(
    found: Mapping[str, str], metrics: Mapping[str, float], evaluation: Evaluation | None
) -> Performance:
    against = found.get(tags.EVALUATED_AGAINST)
    done = Performance(
        against=against if against is not None else None,
        evaluated_at=found.get(tags.EVALUATED_AT),
    )
    if evaluation is None:  # the run's eval_* metrics only: no champion, no interval
        done.metrics = [
            Metric(name=k.removeprefix("eval_"), value=v)
            for k, v in sorted(metrics.items())
            if k.startswith("eval_")
        ]
        return done
    gates = {c.metric: c for c in evaluation.checks}
    theirs = evaluation.champion.metrics if evaluation.champion else {}
    for name, value in sorted(evaluation.challenger.metrics.items()):
        if name in resources.RESOURCES:
            continue
        gate = gates.get(name)
        interval = None
        if gate is not None and gate.interval is not None:
            i = gate.interval
            interval = f"{i.low:+.4g} … {i.high:+.4g} ({i.confidence:.0%}, {i.method})"
        other = theirs.get(name)
        done.metrics.append(
            Metric(
                name=name,
                value=value,
                champion=other,
                delta=value - other if value is not None and other is not None else None,
                interval=interval,
                gate=None
                if gate is None
                else ("passed" if gate.passed else "failed: " + "; ".join(gate.reasons)),
            )
        )
        if gate is not None:
            done.detectable += [n for n in gate.notes if "detect" in n]
    if evaluation.significance is not None:
        s = evaluation.significance
        done.significance = f"{s.method or 'none'} at {s.confidence:.0%}" + (
            f" on {s.rows} rows" if s.rows else ""
        )
    if evaluation.slices is not None:
        done.slices = [
            SliceRow(
                slice=s.slice,
                rows=s.rows,
                metrics={k: v for k, v in s.challenger.items() if v is not None},
                passed=s.passed,
            )
            for s in evaluation.slices.slices[:50]
        ]
    return done


def _ranking(evaluation: Evaluation | None, logged: dict[str, Any] | None) -> dict[str, Any] | None:
    from podium.results import ImportanceRanking

    if evaluation is not None and evaluation.importance is not None:
        mine = evaluation.importance.challenger
        if isinstance(mine, ImportanceRanking):
            return mine.model_dump(mode="json")
    if logged is not None and isinstance(logged.get("challenger"), dict):
        ranking = logged["challenger"]
        if isinstance(ranking.get("features"), list):
            return dict(ranking)
    return None


def _moves(registry: Registry, number: str) -> list[Move]:
    """The champion moves to this version and its deployment attempts, in time order."""
    from podium.registry import deployments

    moved = [_move(e) for e in registry.history() if e.version == number]
    deployed = [
        Move(
            at=d.at,
            action=f"deploy to {d.environment}: {d.outcome}",
            version=d.version,
            previous=d.previous,
            actor=d.actor,
            triggering_actor=d.triggering_actor,
            approvers=d.approvers,
            reason=d.reason or "verified live",
            commit=d.commit,
            run_url=d.run_url,
        )
        for d in deployments.history(registry)
        if d.version == number
    ]
    return sorted(moved + deployed, key=lambda m: m.at)


def _move(event: Event) -> Move:
    return Move(
        at=event.at,
        action=event.action,
        version=event.version,
        previous=event.previous,
        actor=event.actor,
        triggering_actor=event.triggering_actor,
        approvers=event.approvers,
        reason=event.reason,
        commit=event.commit,
        run_url=event.run_url,
    )


def _reproduction(found: Mapping[str, str]) -> Reproduction | None:
    try:
        return Reproduction.model_validate_json(found[tags.REPRODUCTION])
    except (KeyError, ValueError):
        return None


# -------------------------------------------------------------------------- rendering


def render(card: ModelCard, fmt: str) -> str:
    """The card as markdown, JSON or HTML (pure: no I/O)."""
    if fmt == "json":
        return card.model_dump_json(indent=2) + "\n"
    import jinja2

    from podium.report import markdown as md

    env = jinja2.Environment(
        autoescape=fmt == "html",
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    missing = NOT_RECORDED

    def shown(value: Any) -> Any:
        if value is None or value == "" or value == []:
            return missing
        if isinstance(value, float):
            return md.num(value)
        return md.text(value) if fmt == "md" else value

    def number(value: Any) -> str:
        return md.num(value) if value is not None else missing

    env.filters["v"] = shown
    env.filters["num"] = number
    env.filters["code"] = (lambda v: md.code(v) if v else missing) if fmt == "md" else shown
    template = env.from_string(_MARKDOWN if fmt == "md" else _HTML)
    return template.render(card=card, missing=missing)


_MARKDOWN = """\
# Model card: {{ card.identity.name | code }} v{{ card.identity.version }}
{% set i = card.identity %}

{% if card.champion %}**the champion now**{% else %}not the champion now{% endif %}
 · filled by podium from what it recorded; "{{ missing }}" means podium holds no record of it.

## Model details
| | |
|---|---|
| name | {{ i.name | code }} |
| version | {{ i.version }} |
| built with | {{ i.kind | v }}: {{ i.source | code }} |
| flavor | {{ i.flavors | join(", ") | v }} |
| task | {{ i.task | v }} |
| parameters | {% for k, p in i.params.items() %}{{ k | code }}={{ p | code }} {% else %}{{ missing }}{% endfor %} |
| created | {{ i.created | v }} |
| commit | {{ i.commit | code }}{% if i.dirty %} (trained from uncommitted changes: {{ i.dirty_files | join(", ") | v }}){% elif i.dirty is none %} (working tree state {{ missing }}){% else %} (clean working tree){% endif %} |
| pull request | {{ i.pr | v }} |
| workflow run | {{ i.workflow_run | v }} |
| MLflow run | {{ i.run_id | code }} |
| podium | {{ i.podium_version | v }} |
{% if i.pruned_in %}| model files | off the registry branch's tip (registry.keep_versions); commit {{ i.pruned_in | code }} holds them |
{% endif %}

## Intended use
- description: {{ card.purpose.description | v }}
- owners: {{ card.purpose.owners | join(", ") | v }}
- intended use: {{ card.purpose.intended_use | v }}
- limitations: {{ card.purpose.limitations | v }}

## Training and evaluation data
| | sha256 | rows | columns |
|---|---|---|---|
| training | {{ card.data.train.sha256 | code }} | {{ card.data.train.rows | v }} | {{ card.data.train.columns | v }} |
| evaluation | {{ card.data.eval.sha256 | code }} | {{ card.data.eval.rows | v }} | {{ card.data.eval.columns | v }} |

- columns: {% for c in card.data.columns %}{{ c.name | code }} ({{ c.role }}{% if c.kind %}, {{ c.kind | v }}{% endif %}){% if not loop.last %}, {% endif %}{% else %}{{ missing }}{% endfor %}

- validation: {{ card.data.validation | v }}
- drift: {{ card.data.drift | v }}

## Performance
{% set p = card.performance %}
Compared with: {% if p.against %}champion v{{ p.against }}{% elif p.against == "" %}no champion (absolute bounds){% else %}{{ missing }}{% endif %}
 · evaluated {{ p.evaluated_at | v }} · significance: {{ p.significance | v }}

{% if p.metrics %}
| metric | this version | champion | difference | interval of the difference | gate |
|---|---|---|---|---|---|
{% for m in p.metrics %}
| {{ m.name | code }} | {{ m.value | num }} | {{ (m.champion | num) if p.against != "" else "no champion" }} | {{ (m.delta | num) if p.against != "" else "—" }} | {{ m.interval | v }} | {{ m.gate | v }} |
{% endfor %}
{% else %}
Metrics: {{ missing }}
{% endif %}

- smallest detectable difference: {{ p.detectable | join("; ") | v }}
{% if p.slices %}

| slice | rows | metrics | gate |
|---|---|---|---|
{% for s in p.slices %}
| {{ s.slice | v }} | {{ s.rows }} | {% for k, m in s.metrics.items() %}{{ k }} {{ m | num }} {% endfor %}| {{ {True: "passed", False: "failed", None: "not gated"}[s.passed] }} |
{% endfor %}
{% else %}
- slices: {{ missing }}
{% endif %}

## Explainability
{% if card.explainability %}
Top features by permutation importance ({{ card.explainability_metric | v }}):

| feature | importance | ± |
|---|---|---|
{% for f in card.explainability %}
| {{ f.feature | code }} | {{ f.importance | num }} | {{ f.std | num }} |
{% endfor %}
{% else %}
Feature importance: {{ missing }}
{% endif %}

## Resources and cost
{% for k, r in card.resources.items() %}
- {{ k }}: {{ r | num }}
{% else %}
{{ missing }}
{% endfor %}

## Gate verdict
{{ card.verdict.verdict | v }}{% if card.verdict.summary %}: {{ card.verdict.summary | v }}{% endif %}


## Champion moves and deployments
{% for m in card.moves %}
- {{ m.at }} {{ m.action }} v{{ m.version }} (was {{ ("v" ~ m.previous) if m.previous else "none" }}) by {{ m.actor | v }}{% if m.triggering_actor and m.triggering_actor != m.actor %}, triggered by {{ m.triggering_actor | v }}{% endif %}; approved by {{ (m.approvers | join(", ") or "no reviewer") if m.approvers is not none else missing }}: {{ m.reason | v }}
{% else %}
{{ missing }}
{% endfor %}

## Reproduction
{% if card.reproduction %}
{{ card.reproduction.verdict }} at {{ card.reproduction.at }}{% if card.reproduction.commit %} from commit {{ card.reproduction.commit | code }}{% endif %}{% if card.reproduction.cause %}: {{ card.reproduction.cause | v }}{% endif %}

{% else %}
{{ missing }} (run `podium reproduce --version {{ i.version }}`)
{% endif %}
"""

_HTML = """\
<!doctype html>
<html><head><meta charset="utf-8"><title>Model card: {{ card.identity.name }} v{{ card.identity.version }}</title></head>
<body>
{% set i = card.identity %}
<h1>Model card: {{ i.name }} v{{ i.version }}</h1>
<p>{% if card.champion %}the champion now{% else %}not the champion now{% endif %}; "{{ missing }}" means podium holds no record of it.</p>
<h2>Model details</h2>
<table>
<tr><th>built with</th><td>{{ i.kind | v }}: {{ i.source | v }}</td></tr>
<tr><th>flavor</th><td>{{ i.flavors | join(", ") | v }}</td></tr>
<tr><th>task</th><td>{{ i.task | v }}</td></tr>
<tr><th>created</th><td>{{ i.created | v }}</td></tr>
<tr><th>commit</th><td>{{ i.commit | v }}{% if i.dirty %} (trained from uncommitted changes){% endif %}</td></tr>
<tr><th>pull request</th><td>{{ i.pr | v }}</td></tr>
<tr><th>workflow run</th><td>{{ i.workflow_run | v }}</td></tr>
<tr><th>podium</th><td>{{ i.podium_version | v }}</td></tr>
</table>
<h2>Intended use</h2>
<ul>
<li>description: {{ card.purpose.description | v }}</li>
<li>owners: {{ card.purpose.owners | join(", ") | v }}</li>
<li>intended use: {{ card.purpose.intended_use | v }}</li>
<li>limitations: {{ card.purpose.limitations | v }}</li>
</ul>
<h2>Training and evaluation data</h2>
<table>
<tr><th></th><th>sha256</th><th>rows</th></tr>
<tr><td>training</td><td>{{ card.data.train.sha256 | v }}</td><td>{{ card.data.train.rows | v }}</td></tr>
<tr><td>evaluation</td><td>{{ card.data.eval.sha256 | v }}</td><td>{{ card.data.eval.rows | v }}</td></tr>
</table>
<p>columns: {% for c in card.data.columns %}{{ c.name }} ({{ c.role }}){% if not loop.last %}, {% endif %}{% else %}{{ missing }}{% endfor %}</p>
<p>validation: {{ card.data.validation | v }}; drift: {{ card.data.drift | v }}</p>
<h2>Performance</h2>
<table>
<tr><th>metric</th><th>this version</th><th>champion</th><th>difference</th><th>interval</th><th>gate</th></tr>
{% for m in card.performance.metrics %}
<tr><td>{{ m.name }}</td><td>{{ m.value | num }}</td><td>{{ m.champion | num }}</td><td>{{ m.delta | num }}</td><td>{{ m.interval | v }}</td><td>{{ m.gate | v }}</td></tr>
{% endfor %}
</table>
<h2>Explainability</h2>
<ul>
{% for f in card.explainability %}
<li>{{ f.feature }}: {{ f.importance | num }}</li>
{% else %}
<li>{{ missing }}</li>
{% endfor %}
</ul>
<h2>Resources and cost</h2>
<ul>
{% for k, r in card.resources.items() %}
<li>{{ k }}: {{ r | num }}</li>
{% else %}
<li>{{ missing }}</li>
{% endfor %}
</ul>
<h2>Gate verdict</h2>
<p>{{ card.verdict.verdict | v }}{% if card.verdict.summary %}: {{ card.verdict.summary }}{% endif %}</p>
<h2>Champion moves and deployments</h2>
<ul>
{% for m in card.moves %}
<li>{{ m.at }} {{ m.action }} v{{ m.version }} by {{ m.actor }}; approved by {{ (m.approvers | join(", ") or "no reviewer") if m.approvers is not none else missing }}: {{ m.reason }}</li>
{% else %}
<li>{{ missing }}</li>
{% endfor %}
</ul>
<h2>Reproduction</h2>
<p>{% if card.reproduction %}{{ card.reproduction.verdict }} at {{ card.reproduction.at }}{% if card.reproduction.cause %}: {{ card.reproduction.cause }}{% endif %}{% else %}{{ missing }}{% endif %}</p>
</body></html>
"""
