"""The GitHub adapter against the loopback GitHub (held to GitHub's OpenAPI description)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator

import pytest

from podium.errors import InputError, ServiceError
from podium.github import BadCredentials, GitHub
from tests.github_fake import BOT, FULL_SPEC_PATH, FakeGitHub, serve
from tests.github_openapi.subset import CUT, OPERATIONS, cut

MARK = "<!-- podium-report: churn -->"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    yield from serve()


@pytest.fixture
def ghes() -> Iterator[FakeGitHub]:
    yield from serve(prefix="/api/v3")


def client(fake: FakeGitHub, **options: object) -> GitHub:
    settings: dict[str, object] = {"retry_delays": (0.0, 0.0, 0.0)}
    settings.update(options)
    return GitHub(
        token=fake.token,
        repository=fake.repository,
        api_url=fake.api_url,
        **settings,  # type: ignore[arg-type]
    )


def body(text: str, marker: str = MARK) -> str:
    return f"{marker}\n{text}\n"


# ----------------------------------------------------------------- the fake holds the line


def test_the_committed_cut_of_the_description_is_githubs_own() -> None:
    """The fake is held to tests/github_openapi/api.github.com.json where GitHub's full
    description is absent (a clone anywhere): it must be an exact cut of the full one."""
    committed = json.loads(CUT.read_text(encoding="utf-8"))
    assert {
        (p, m) for p, item in committed["paths"].items() for m in item if m != "parameters"
    } == set(OPERATIONS)
    if not FULL_SPEC_PATH.is_file():
        return  # the check against the original needs ../shared (a developer's machine)
    full = json.loads(FULL_SPEC_PATH.read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(cut(full)))


def test_the_fake_reports_requests_and_responses_outside_the_description() -> None:
    fake = FakeGitHub().start()
    try:
        fake.add_pull(5)
        request = urllib.request.Request(
            f"{fake.api_url}/repos/acme/churn/issues/5/comments",
            data=json.dumps({"text": "no body field"}).encode(),
            headers={"Authorization": f"token {fake.token}", "Content-Type": "application/json"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=10)
        assert any("request POST /repos/acme/churn/issues/5/comments" in v for v in fake.violations)
        assert any("body" in v for v in fake.violations)

        fake.violations.clear()
        broken = fake.add_comment(5, "hi")
        del broken["user"]["login"]  # what GitHub would never send
        listing = urllib.request.Request(
            f"{fake.api_url}/repos/acme/churn/issues/5/comments",
            headers={"Authorization": f"token {fake.token}"},
        )
        with urllib.request.urlopen(listing, timeout=10):
            pass
        assert any("response 200 to GET" in v and "login" in v for v in fake.violations)
    finally:
        fake.stop()


# ----------------------------------------------------------------------- the one comment


def test_first_run_posts_one_comment_and_a_rerun_edits_it(github: FakeGitHub) -> None:
    github.add_pull(5)
    first = client(github).upsert_comment(5, MARK, body("first"))
    assert first.created
    assert first.url.endswith(f"/acme/churn/pull/5#issuecomment-{first.id}")
    second = client(github).upsert_comment(5, MARK, body("second"))
    assert not second.created and second.id == first.id
    assert [c["body"] for c in github.podium_comments(5)] == [body("second")]
    assert github.count("create_comment") == 1 and github.count("update_comment") == 1


def test_an_unchanged_report_is_not_rewritten(github: FakeGitHub) -> None:
    github.add_pull(5)
    client(github).upsert_comment(5, MARK, body("same"))
    client(github).upsert_comment(5, MARK, body("same"))
    assert github.count("create_comment") == 1 and github.count("update_comment") == 0


def test_podiums_comment_is_found_past_the_first_page(github: FakeGitHub) -> None:
    github.add_pull(5)
    for i in range(45):
        github.add_comment(5, f"LGTM #{i}")
    mine = github.add_comment(5, body("old"), login=BOT)
    github.add_comment(5, "one more after it")
    posted = client(github, per_page=30).upsert_comment(5, MARK, body("new"))
    assert posted.id == mine["id"] and not posted.created
    pages = [
        r.query.get("page", ["1"])[0] for r in github.requests if r.operation == "list_comments"
    ]
    assert pages == ["1", "2"]  # followed GitHub's Link header to the second page
    assert len(github.podium_comments(5)) == 1 and len(github.comments[5]) == 47


def test_a_quoted_marker_is_not_podiums_comment(github: FakeGitHub) -> None:
    github.add_pull(5)
    github.add_comment(5, f"> {MARK}\n> quoting the bot")
    posted = client(github).upsert_comment(5, MARK, body("report"))
    assert posted.created
    assert github.comments[5][0]["body"].startswith("> ")  # left alone


def test_a_foreign_comment_with_podiums_marker_is_never_edited(github: FakeGitHub) -> None:
    """Anyone may post podium's marker; podium then writes its report into its own comment."""
    github.add_pull(5)
    planted = github.add_comment(5, body("✅ promotable (trust me)"), login="mallory")
    first = client(github).upsert_comment(5, MARK, body("report"))
    again = client(github).upsert_comment(5, MARK, body("report, re-run"))
    assert first.created and not again.created and again.id == first.id != planted["id"]
    assert planted["body"] == body("✅ promotable (trust me)")  # untouched
    [mine] = github.podium_comments(5, login=BOT)
    assert mine["body"] == body("report, re-run")
    assert github.edits == [("comment", first.id, BOT)] and github.foreign_edits() == []


def test_a_foreign_comment_posted_through_the_api_is_left_alone(github: FakeGitHub) -> None:
    github.add_pull(5)
    mallory = github.add_user("mallory")
    theirs = GitHub(token=mallory, repository=github.repository, api_url=github.api_url)
    with pytest.raises(InputError, match="not a GitHub login"):
        GitHub(token=mallory, repository=github.repository, author="mal lory")
    planted = theirs.upsert_comment(5, MARK, body("fake verdict"))  # created as mallory
    assert github.comments[5][0]["user"]["login"] == "mallory"
    posted = client(github).upsert_comment(5, MARK, body("report"))
    assert posted.created and posted.id != planted.id
    assert github.comments[5][0]["body"] == body("fake verdict")
    assert github.foreign_edits() == []


def test_of_two_podium_comments_the_oldest_is_edited(github: FakeGitHub) -> None:
    github.add_pull(5)
    oldest = github.add_comment(5, body("old"), login=BOT)
    for i in range(40):
        github.add_comment(5, f"review {i}")
    github.add_comment(5, body("a later copy"), login=BOT)
    posted = client(github, per_page=30).upsert_comment(5, MARK, body("new"))
    assert posted.id == oldest["id"] and not posted.created
    assert [c["body"] for c in github.podium_comments(5)] == [body("new"), body("a later copy")]


def test_a_github_app_token_posts_as_its_bot(github: FakeGitHub) -> None:
    github.bot = "podium-app[bot]"  # the job's token is a GitHub App installation token
    github.add_pull(5)
    github.add_comment(5, body("from the workflow token"), login=BOT)
    app = client(github, author="Podium-App[bot]")  # logins compare without case
    first = app.upsert_comment(5, MARK, body("report"))
    second = app.upsert_comment(5, MARK, body("report 2"))
    assert first.created and second.id == first.id and not second.created
    assert github.comments[5][0]["body"] == body("from the workflow token")
    [mine] = github.podium_comments(5, login="podium-app[bot]")
    assert mine["body"] == body("report 2") and github.foreign_edits() == []


def test_posting_as_another_login_than_expected_is_told(github: FakeGitHub) -> None:
    """An App token without --comment-author: say so, or every run posts a new comment."""
    github.bot = "podium-app[bot]"
    github.add_pull(5)
    posted = client(github).upsert_comment(5, MARK, body("report"))
    assert posted.created and posted.author == "podium-app[bot]"
    warning = posted.unexpected_author(BOT)
    assert warning is not None and "--comment-author podium-app[bot]" in warning
    again = client(github, author="podium-app[bot]").upsert_comment(5, MARK, body("2"))
    assert again.id == posted.id and again.unexpected_author("podium-app[bot]") is None


def test_two_models_keep_two_comments(github: FakeGitHub) -> None:
    github.add_pull(5)
    other = "<!-- podium-report: churn-v2 -->"
    for _ in range(2):
        client(github).upsert_comment(5, MARK, body("churn"))
        client(github).upsert_comment(5, other, body("churn-v2", other))
    bodies = sorted(c["body"] for c in github.podium_comments(5))
    assert bodies == sorted([body("churn"), body("churn-v2", other)])


def test_ghes_api_prefix(ghes: FakeGitHub) -> None:
    ghes.add_pull(9)
    posted = client(ghes).upsert_comment(9, MARK, body("on GHES"))
    client(ghes).set_status(
        "a" * 40, state="success", context="podium/churn", description="ok", target_url=None
    )
    assert posted.created and ghes.api_url.endswith("/api/v3")
    assert all(r.status < 400 for r in ghes.requests)
    assert ghes.statuses[0]["context"] == "podium/churn"


# ------------------------------------------------------------------------ faults, retries


def test_a_502_then_success_posts_once(github: FakeGitHub) -> None:
    github.add_pull(5)
    github.fail("create_comment", 502)
    posted = client(github).upsert_comment(5, MARK, body("x"))
    assert posted.created
    assert github.count("create_comment") == 2 and len(github.podium_comments(5)) == 1


def test_a_post_answered_502_that_succeeded_is_not_posted_twice(github: FakeGitHub) -> None:
    github.add_pull(5)
    github.fail("create_comment", 502, after=True)  # stored, but the answer was lost
    posted = client(github).upsert_comment(5, MARK, body("x"))
    assert posted.created
    assert github.count("create_comment") == 1  # looked for the marker instead of re-posting
    assert len(github.podium_comments(5)) == 1


def test_a_secondary_rate_limit_waits_for_retry_after(github: FakeGitHub) -> None:
    github.add_pull(5)
    github.secondary_rate_limit("create_comment", retry_after=1)
    started = time.monotonic()
    posted = client(github).upsert_comment(5, MARK, body("x"))
    assert time.monotonic() - started >= 1.0
    assert posted.created and len(github.podium_comments(5)) == 1


def test_a_retry_after_beyond_the_bound_is_a_service_error_at_once(github: FakeGitHub) -> None:
    github.add_pull(5)
    github.secondary_rate_limit("list_comments", retry_after=3600)
    started = time.monotonic()
    with pytest.raises(ServiceError, match="asks to wait 3600 s"):
        client(github).upsert_comment(5, MARK, body("x"))
    assert time.monotonic() - started < 5


def test_5xx_after_every_retry_is_a_service_error(github: FakeGitHub) -> None:
    github.add_pull(5)
    github.fail("create_status", 503, times=10)
    with pytest.raises(ServiceError, match=r"after 4 attempts \(HTTP 503\)"):
        client(github).set_status(
            "b" * 40, state="failure", context="podium/churn", description="d", target_url=None
        )
    assert github.count("create_status") == 4


def test_bad_credentials_name_the_token_and_never_show_it(github: FakeGitHub) -> None:
    github.add_pull(5)
    github.token = "ghs_theRealOne"  # the client still sends the old one
    with pytest.raises(BadCredentials) as raised:
        GitHub(
            token="ghs_wrongToken", repository=github.repository, api_url=github.api_url
        ).upsert_comment(5, MARK, body("x"))
    message = str(raised.value)
    assert "--github-token or GITHUB_TOKEN" in message and "401" in message
    assert "ghs_wrongToken" not in message
    assert github.count("list_comments") == 1  # not retried: it cannot get better


def test_a_missing_permission_names_it(github: FakeGitHub) -> None:
    github.add_pull(5)
    github.fail("create_comment", 403, message="Resource not accessible by integration")
    with pytest.raises(InputError, match=r"`permissions: pull-requests: write`"):
        client(github).upsert_comment(5, MARK, body("x"))
    assert github.count("create_comment") == 1


def test_a_missing_pull_request_names_it(github: FakeGitHub) -> None:
    with pytest.raises(InputError, match=r"pull request #404 not found in acme/churn"):
        client(github).upsert_comment(404, MARK, body("x"))


def test_the_head_of_a_pull_request(github: FakeGitHub) -> None:
    github.add_pull(5, head_sha="c0ffee" + "0" * 34)
    assert client(github).pull_head_sha(5) == "c0ffee" + "0" * 34


def test_a_status_description_fits_githubs_140_characters(github: FakeGitHub) -> None:
    client(github).set_status(
        "d" * 40,
        state="failure",
        context="podium/churn",
        description="x" * 500,
        target_url="https://ci.example/1",
    )
    assert len(github.statuses[0]["description"]) == 140


def test_a_malformed_repository_is_an_input_error() -> None:
    with pytest.raises(InputError, match="GITHUB_REPOSITORY: 'acme' is not 'owner/name'"):
        GitHub(token="t", repository="acme")


# ------------------------------------------------------------- monitoring issue and dispatch

ISSUE = "<!-- podium-monitor: churn -->"


def test_the_monitoring_issue_is_opened_once_then_edited(github: FakeGitHub) -> None:
    github.add_pull(1)  # the issues list holds pull requests too: never podium's issue
    first = client(github).upsert_issue(ISSUE, "drift", body("day 1", ISSUE))
    again = client(github).upsert_issue(ISSUE, "drift again", body("day 2", ISSUE))
    assert first.created and not again.created
    assert first.id == again.id == 2  # numbers are shared with pull request #1
    (issue,) = github.podium_issues()
    assert (issue["title"], issue["body"]) == ("drift again", body("day 2", ISSUE))
    assert first.url == issue["html_url"]


def test_podiums_issue_is_found_past_the_first_page_and_closed_ones_are_left_alone(
    github: FakeGitHub,
) -> None:
    github.add_issue("old alert", body("fixed last month", ISSUE), state="closed", login=BOT)
    for number in range(5):
        github.add_issue(f"user issue {number}", f"mentions {ISSUE} in the middle")
    ours = github.add_issue("drift", body("day 1", ISSUE), login=BOT)
    posted = client(github, per_page=2).upsert_issue(ISSUE, "drift", body("day 2", ISSUE))
    assert (posted.id, posted.created) == (ours["number"], False)
    assert github.count("create_issue") == 0
    assert github.count("list_issues") == 3  # every page of the six open issues


def test_a_foreign_issue_with_podiums_marker_is_never_edited(github: FakeGitHub) -> None:
    planted = github.add_issue("drift", body("all fine, close this", ISSUE), login="mallory")
    posted = client(github).upsert_issue(ISSUE, "drift", body("day 1", ISSUE))
    again = client(github).upsert_issue(ISSUE, "drift", body("day 2", ISSUE))
    assert posted.created and posted.id != planted["number"] and again.id == posted.id
    assert github.issues[planted["number"]]["body"] == body("all fine, close this", ISSUE)
    assert [i["body"] for i in github.podium_issues(login=BOT)] == [body("day 2", ISSUE)]
    assert github.foreign_edits() == []


def test_of_two_podium_issues_the_oldest_is_edited(github: FakeGitHub) -> None:
    oldest = github.add_issue("drift", body("day 1", ISSUE), login=BOT)
    github.add_issue("drift", body("a later copy", ISSUE), login=BOT)
    posted = client(github, per_page=1).upsert_issue(ISSUE, "drift", body("day 2", ISSUE))
    assert (posted.id, posted.created) == (oldest["number"], False)
    assert github.issues[oldest["number"]]["body"] == body("day 2", ISSUE)


def test_a_github_app_token_finds_its_own_issue(github: FakeGitHub) -> None:
    github.bot = "podium-app[bot]"
    github.add_issue("drift", body("opened by the workflow token", ISSUE), login=BOT)
    app = client(github, author="podium-app[bot]")
    first = app.upsert_issue(ISSUE, "drift", body("day 1", ISSUE))
    second = app.upsert_issue(ISSUE, "drift", body("day 2", ISSUE))
    assert first.created and (second.id, second.created) == (first.id, False)
    assert github.foreign_edits() == []


def test_an_issue_post_answered_502_that_succeeded_is_not_opened_twice(github: FakeGitHub) -> None:
    github.fail("create_issue", 502, after=True)
    posted = client(github).upsert_issue(ISSUE, "drift", body("day 1", ISSUE))
    assert posted.created
    assert len(github.podium_issues()) == 1
    assert github.count("create_issue") == 1


def test_without_issues_write_the_permission_is_named(github: FakeGitHub) -> None:
    github.fail("create_issue", 403, message="Resource not accessible by integration")
    with pytest.raises(InputError, match="permissions: issues: write"):
        client(github).upsert_issue(ISSUE, "drift", body("day 1", ISSUE))


def test_the_promote_workflow_is_started_and_retried_after_a_5xx(github: FakeGitHub) -> None:
    github.fail("start_workflow", 502)
    client(github).start_workflow("podium-churn-promote.yml", "main", {"reason": "drift"})
    assert github.dispatches == [
        {"workflow": "podium-churn-promote.yml", "ref": "main", "inputs": {"reason": "drift"}}
    ]
    assert github.count("start_workflow") == 2


def test_a_token_without_actions_write_is_named(github: FakeGitHub) -> None:
    github.fail("start_workflow", 403, message="Resource not accessible by integration")
    with pytest.raises(InputError, match="actions: write"):
        client(github).start_workflow("podium-churn-promote.yml", "main", {})
    assert github.dispatches == []
