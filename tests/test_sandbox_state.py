"""The sandbox state: writes as Jira does them (histories, updated, errors), indexes, keyset paging."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from pmo_gates.sandbox.field_input import FieldErrors
from pmo_gates.sandbox.state import IssueNotFound, SandboxState
from tests.fixtures_sandbox import small


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(clock: Clock) -> Iterator[SandboxState]:
    st = SandboxState(small(), clock=clock)
    yield st
    st.reset()


def _task(state: SandboxState) -> dict:
    return next(i for i in state.issues() if i["fields"]["issuetype"]["name"] == "Task")


def _digest() -> str:
    return hashlib.sha256("".join(small().iter_json()).encode()).hexdigest()


def test_edit_records_history_and_bumps_updated(state: SandboxState, clock: Clock) -> None:
    issue = _task(state)
    before = len(state.changelog(issue["key"]))
    user = state.users()[0]
    state.update_issue(
        issue["key"],
        {"labels": ["urgent", "pmo"], "priority": {"name": "Highest"}, "assignee": {"accountId": user["accountId"]}},
    )
    after = state.issue(issue["key"])
    assert after["fields"]["labels"] == ["urgent", "pmo"]
    history = state.changelog(issue["key"])[-1]
    assert after["fields"]["updated"] == history["created"] == "2026-11-02T09:00:01.000+0000"
    assert len(state.changelog(issue["key"])) == before + 1
    by_field = {item["field"]: item for item in history["items"]}
    assert by_field["labels"]["toString"] == "urgent pmo"
    assert by_field["priority"]["to"] == "1" and by_field["priority"]["toString"] == "Highest"
    assert by_field["assignee"]["to"] == user["accountId"]
    assert history["author"]["displayName"] == "PMO Automation"


def test_update_operations_on_labels(state: SandboxState) -> None:
    key = _task(state)["key"]
    state.update_issue(key, update={"labels": [{"set": ["a", "b"]}]})
    state.update_issue(key, update={"labels": [{"add": "c"}, {"remove": "a"}, {"add": "c"}]})
    assert state.issue(key)["fields"]["labels"] == ["b", "c"]


def test_no_change_means_no_history_and_no_bump(state: SandboxState) -> None:
    issue = _task(state)
    state.update_issue(issue["key"], {"summary": issue["fields"]["summary"]})
    assert state.issue(issue["key"]) is issue


def test_bad_writes_list_every_field_error(state: SandboxState) -> None:
    key = _task(state)["key"]
    with pytest.raises(FieldErrors) as err:
        state.update_issue(
            key,
            {
                "duedate": "next week",
                "assignee": {"accountId": "nobody"},
                "status": {"name": "Done"},
                "labels": ["a b"],
            },
        )
    assert set(err.value.errors) == {"duedate", "assignee", "status", "labels"}
    assert err.value.body()["errors"]["status"].startswith("Field 'status' cannot be set")
    with pytest.raises(FieldErrors) as missing:
        state.add_issue({"project": {"key": "NOPE"}, "issuetype": {"name": "Task"}})
    assert set(missing.value.errors) == {"project", "summary"}


def test_create_assigns_next_key_defaults_and_properties(state: SandboxState) -> None:
    project = state.projects()[0]["key"]
    count = len(state.project_issue_ids(project))
    issue = state.add_issue(
        {"project": {"key": project}, "issuetype": {"id": "10002"}, "summary": "Fix the gate", "labels": ["pmo-ca"]},
        properties={"pmo-gates": {"fingerprint": "R1:X"}},
    )
    assert issue["key"] == f"{project}-{count + 1}"
    assert issue["fields"]["status"]["name"] == "To Do" and issue["fields"]["priority"]["name"] == "Medium"
    assert issue["fields"]["issuetype"]["name"] == "Task"
    assert state.properties(issue["key"]) == {"pmo-gates": {"fingerprint": "R1:X"}}
    assert state.compile_jql("labels = pmo-ca").matches(issue)


def test_transitions_set_and_clear_resolution(state: SandboxState) -> None:
    key = next(i["key"] for i in state.issues() if i["fields"]["status"]["name"] == "To Do")
    assert [t.name for t in state.available_transitions(key)] == ["Start Progress"]
    with pytest.raises(FieldErrors, match="not valid for this issue"):
        state.apply_transition(key, "61")
    for transition_id in ("11", "21", "31"):
        state.apply_transition(key, transition_id)
    done = state.issue(key)["fields"]
    assert done["status"]["name"] == "Done" and done["resolution"]["name"] == "Done"
    assert done["resolutiondate"] == done["updated"]
    state.apply_transition(key, "61")  # Reopen
    reopened = state.issue(key)["fields"]
    assert reopened["resolution"] is None and reopened["resolutiondate"] is None
    last = state.changelog(key)[-1]["items"]
    assert {i["field"] for i in last} == {"status", "resolution"}
    state.transition(key, "In Review")  # tests may jump anywhere
    assert state.issue(key)["fields"]["status"]["name"] == "In Review"


def test_comments_bump_updated_without_history(state: SandboxState) -> None:
    issue = _task(state)
    histories = len(state.changelog(issue["key"]))
    comment = state.add_comment(issue["key"], "Please fix")
    assert state.comment(issue["key"], comment["id"])["body"] == "Please fix"
    assert state.issue(issue["key"])["fields"]["updated"] == comment["created"]
    state.update_comment(issue["key"], comment["id"], "Please fix soon")
    assert state.comments(issue["key"])[-1]["body"] == "Please fix soon"
    assert state.delete_comment(issue["key"], comment["id"]) and not state.delete_comment(issue["key"], comment["id"])
    assert len(state.changelog(issue["key"])) == histories


def test_properties_limits(state: SandboxState) -> None:
    key = _task(state)["key"]
    assert state.set_property(key, "p", {"a": 1}) is True
    assert state.set_property(key, "p", {"a": 2}) is False
    with pytest.raises(FieldErrors, match="too long"):
        state.set_property(key, "big", "x" * 40_000)
    assert state.delete_property(key, "p") and state.properties(key) == {}


def test_links_both_sides_idempotent_and_removed_with_the_issue(state: SandboxState) -> None:
    a, b = [i["key"] for i in state.issues()[3:5]]
    link_id = state.add_link({"name": "Blocks"}, a, b)
    assert state.add_link("Blocks", a, b) == link_id  # a duplicate is accepted, not doubled
    outward = [lk for lk in state.links(a) if lk["id"] == link_id]
    inward = [lk for lk in state.links(b) if lk["id"] == link_id]
    assert outward[0]["outwardIssue"]["key"] == b and inward[0]["inwardIssue"]["key"] == a
    assert state.link(link_id)["inwardIssue"]["key"] == a
    state.delete_issue(a)
    assert state.issue(a) is None and all(lk["id"] != link_id for lk in state.links(b))
    assert state.link(link_id) is None
    with pytest.raises(IssueNotFound):
        state.comments(a)


def test_writes_never_touch_the_snapshot_and_reset_restores_it(state: SandboxState) -> None:
    before = _digest()
    key = _task(state)["key"]
    state.update_issue(key, {"summary": "Changed"})
    state.add_comment(key, "hi")
    state.transition(key, "Done")
    state.delete_issue(state.issues()[-1]["key"])
    assert _digest() == before
    state.reset()
    assert state.issue(key)["fields"]["summary"] != "Changed"
    assert len(state) == len(small().issues)


@pytest.mark.parametrize("jql", ["updated >= -3650d ORDER BY updated ASC", "issuetype != Project ORDER BY key ASC"])
def test_keyset_paging_survives_concurrent_changes(state: SandboxState, jql: str) -> None:
    compiled = state.compile_jql(jql)
    expected = [i["key"] for i in state.search.page(compiled, jql, after=None, limit=10_000).issues]
    seen: list[str] = []
    touched: set[str] = set()
    after = None
    page_number = 0
    while True:
        page = state.search.page(state.compile_jql(jql), jql, after=after, limit=7)
        seen += [i["key"] for i in page.issues]
        after = page.position_after(compiled)
        if not page.has_more:
            break
        page_number += 1
        # Behind the reader's back: change one issue already read and one not yet read.
        for key in (seen[0], expected[-1 - page_number]):
            if key not in touched and state.issue(key) is not None:
                state.update_issue(key, {"labels": ["moved", f"p{page_number}"]})
                touched.add(key)
    untouched = [k for k in expected if k not in touched]
    assert [k for k in seen if k in untouched] == untouched  # each exactly once, in order
    assert set(expected) <= set(seen)


def _by_updated(state: SandboxState, descending: bool) -> list[str]:
    """Every searchable issue in (updated, id) order, worked out here without the engine."""
    stamp = [
        (datetime.fromisoformat(i["fields"]["updated"].replace("+0000", "+00:00")).timestamp(), int(i["id"]), i["key"])
        for i in state.issues()
    ]
    return [key for *_, key in sorted(stamp, reverse=descending)]


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_pinning_most_projects_pages_by_walking_the_updated_index(state: SandboxState, direction: str) -> None:
    """A sync's horizon (``project in (every key) ORDER BY updated DESC``, one issue) must not sort the whole
    portfolio first: on 200,000 issues that took the sandbox 2.3 s while the sync waited for it."""
    projects = ", ".join(p["key"] for p in state.projects())
    jql = f"project in ({projects}) AND updated >= -3650d ORDER BY updated {direction}"
    compiled = state.compile_jql(jql)
    calls = 0
    matches = compiled.matches

    def counting(issue: dict) -> bool:
        nonlocal calls
        calls += 1
        return matches(issue)

    compiled.matches = counting
    first = state.search.page(compiled, jql, after=None, limit=1)
    assert calls <= 2, "the engine looked at every issue for a one-issue page"
    keys, after, page = [], None, first
    while True:
        page = state.search.page(compiled, jql, after=after, limit=4)
        keys += [i["key"] for i in page.issues]
        after = page.position_after(compiled)
        if not page.has_more:
            break
    assert keys == _by_updated(state, descending=direction == "DESC")
    assert first.issues[0]["key"] == keys[0]


def test_a_query_of_projects_alone_is_answered_from_the_project_index(state: SandboxState) -> None:
    """``project in (...)`` alone (the sync's groups, its id listing, its count) selects exactly the projects'
    issues: checking the predicate on each of them cost the sandbox most of a 200,000-issue count (1.2 s)."""
    keys = [p["key"] for p in state.projects()][:2]
    jql = f"project in ({', '.join(keys)}) ORDER BY key ASC"
    compiled = state.compile_jql(jql)
    assert compiled.hints.only_projects
    assert not state.compile_jql(f"project in ({keys[0]}) AND labels = x").hints.only_projects

    def never(issue: dict) -> bool:
        raise AssertionError("the predicate was checked issue by issue")

    compiled.matches = never
    expected = sorted(
        (i for i in state.issues() if i["fields"]["project"]["key"] in keys),
        key=lambda i: (i["key"].rsplit("-", 1)[0], int(i["key"].rsplit("-", 1)[1])),
    )
    assert [i["key"] for i in state.search.page(compiled, jql, after=None, limit=999).issues] == [
        i["key"] for i in expected
    ]
    counted = state.compile_jql(f"project in ({', '.join(keys)})")
    counted.matches = never
    assert state.search.count(counted, "c") == len(expected)


def test_updated_walk_and_sorted_path_agree(state: SandboxState) -> None:
    projects = ", ".join(p["key"] for p in state.projects())
    walked = state.search.page(state.compile_jql("updated >= -3650d ORDER BY updated DESC"), "a", after=None, limit=999)
    sorted_ = state.search.page(
        state.compile_jql(f"project in ({projects}) ORDER BY updated DESC"), "b", after=None, limit=999
    )
    assert [i["key"] for i in walked.issues] == [i["key"] for i in sorted_.issues]


def test_windows_and_counts(state: SandboxState) -> None:
    compiled = state.compile_jql("issuetype = Project ORDER BY key")
    issues, total = state.search.window(compiled, "w", start=1, limit=1)
    assert total == 3 and len(issues) == 1
    assert state.search.count(compiled, "w") == 3
