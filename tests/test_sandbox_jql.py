"""The JQL subset: parsing (with Jira's error messages) and meaning over a small generated portfolio."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pmo_gates.sandbox.jql import And, Clause, Empty, Function, JqlError, Not, Or, SortKey, Value, parse
from pmo_gates.sandbox.state import SandboxState
from tests.fixtures_sandbox import small

NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def state() -> SandboxState:
    return SandboxState(small(), clock=lambda: NOW)


def keys(state: SandboxState, jql: str) -> list[str]:
    compiled = state.compile_jql(jql)
    return [i["key"] for i in state.search.page(compiled, jql, after=None, limit=10_000).issues]


def brute(state: SandboxState, predicate) -> set[str]:  # type: ignore[no-untyped-def]
    return {i["key"] for i in state.issues() if predicate(i["fields"])}


# -- parsing ------------------------------------------------------------------------------------------------


def test_precedence_and_parentheses() -> None:
    query = parse("a = 1 OR b = 2 AND NOT c = 3")
    assert isinstance(query.where, Or)
    assert isinstance(query.where.items[1], And)
    assert isinstance(query.where.items[1].items[1], Not)
    grouped = parse("(a = 1 OR b = 2) AND c = 3")
    assert isinstance(grouped.where, And) and isinstance(grouped.where.items[0], Or)


def test_operands_values_lists_functions_and_empty() -> None:
    query = parse('"Epic Link" in (ABC-1, "x y") and assignee = currentUser() and due is not EMPTY')
    first, second, third = query.where.items  # type: ignore[union-attr]
    assert first == Clause("Epic Link", "in", (Value("ABC-1", False, 16), Value("x y", True, 23)), 0)
    assert isinstance(second.operands[0], Function) and second.operands[0].name == "currentUser"
    assert third.operator == "is not" and isinstance(third.operands[0], Empty)
    escaped = parse("a != 'it\\'s'").where
    assert isinstance(escaped, Clause) and escaped.operands[0] == Value("it's", True, 5)


def test_order_by_and_keyword_case() -> None:
    query = parse("project = X order BY updated desc, key")
    assert query.order_by == (SortKey("updated", False), SortKey("key", True))
    assert parse("ORDER BY created").where is None


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("project =", "Expecting either a value, list or function but got the end of the query."),
        ("project foo", "Expecting operator but got 'foo'."),
        ('summary ~ "open', "The quoted string 'open' has not been completed. (line 1, character 11)"),
        ("(a = b", "Expecting ')' before the end of the query."),
        ("a = b c = d", "Expecting either 'OR' or 'AND' but got 'c'. (line 1, character 7)"),
        ("a = AND", "You must surround 'AND' in quotation marks to use it as a value."),
        ("a is 5", "Expecting 'EMPTY' or 'NULL' after 'IS' but got '5'."),
        ("a in b", "Expecting '(' but got 'b'."),
        ("a = b &", "The character '&' is a reserved JQL character."),
        ("a = b AND\n= c", "Expecting a field name but got '='. (line 2, character 1)"),
    ],
)
def test_syntax_errors_read_like_jira(jql: str, message: str) -> None:
    with pytest.raises(JqlError) as err:
        parse(jql)
    assert str(err.value).startswith("Error in the JQL Query: ")
    assert message in str(err.value)


# -- meaning ------------------------------------------------------------------------------------------------


def test_project_status_and_boolean_logic(state: SandboxState) -> None:
    project = state.projects()[0]["key"]
    found = set(keys(state, f"project = {project} AND status != Done"))
    assert found == brute(state, lambda f: f["project"]["key"] == project and f["status"]["name"] != "Done")
    either = set(keys(state, f'project = "{project}" OR status = "In Progress"'))
    assert either == brute(state, lambda f: f["project"]["key"] == project or f["status"]["name"] == "In Progress")
    negated = set(keys(state, f"NOT project = {project}"))
    assert negated == {i["key"] for i in state.issues()} - brute(state, lambda f: f["project"]["key"] == project)


def test_empty_semantics_and_not_equal_skips_empty(state: SandboxState) -> None:
    unassigned = set(keys(state, "assignee is EMPTY"))
    assert unassigned == brute(state, lambda f: f["assignee"] is None)
    someone = state.issues()[1]["fields"]["assignee"] or next(
        i["fields"]["assignee"] for i in state.issues() if i["fields"]["assignee"]
    )
    not_them = set(keys(state, f'assignee != "{someone["accountId"]}"'))
    assert not (not_them & unassigned)  # Jira: != never matches an empty field
    by_name = set(keys(state, f'assignee = "{someone["displayName"]}"'))
    assert by_name == brute(state, lambda f: (f["assignee"] or {}).get("accountId") == someone["accountId"])


def test_labels_issuetype_category_and_resolution(state: SandboxState) -> None:
    assert set(keys(state, "labels = pmo-project")) == set(keys(state, "issuetype = Project"))
    assert set(keys(state, "type in (Epic, Risk)")) == brute(
        state, lambda f: f["issuetype"]["name"] in ("Epic", "Risk")
    )
    done = brute(state, lambda f: f["status"]["statusCategory"]["key"] == "done")
    assert set(keys(state, "statusCategory = Done")) == done
    assert set(keys(state, "resolution = Unresolved")) == {i["key"] for i in state.issues()} - done
    assert set(keys(state, "resolution is not EMPTY")) == done


def test_dates_relative_periods_and_functions(state: SandboxState) -> None:
    recent = set(keys(state, "updated >= -30d"))
    assert recent == brute(state, lambda f: f["updated"] >= "2026-10-03T06:00:00.000+0000")
    assert set(keys(state, 'created < "2026-06-01"')) == brute(state, lambda f: f["created"] < "2026-06-01")
    assert set(keys(state, 'updated >= "2026-10-01 12:30"')) == brute(
        state, lambda f: f["updated"] >= "2026-10-01T12:30:00.000+0000"
    )
    overdue = set(keys(state, "duedate < now() AND statusCategory != Done"))
    assert overdue == brute(
        state, lambda f: f["duedate"] is not None and f["duedate"] < "2026-11-02" and f["status"]["name"] != "Done"
    )
    assert set(keys(state, "resolved >= startOfDay(-400d)")) == brute(state, lambda f: f["resolutiondate"] is not None)


def test_parent_epic_link_key_and_id(state: SandboxState) -> None:
    epic = next(i for i in state.issues() if i["fields"]["issuetype"]["name"] == "Epic")
    children = brute(state, lambda f: (f.get("parent") or {}).get("key") == epic["key"])
    assert children
    assert set(keys(state, f"parent = {epic['key']}")) == children
    assert set(keys(state, f'"Epic Link" = {epic["key"]}')) == children
    assert keys(state, f"key = {epic['key'].lower()}") == [epic["key"]]
    assert keys(state, f"id = {epic['id']}") == [epic["key"]]
    project = epic["key"].split("-")[0]
    assert set(keys(state, f"project = {project} AND key > {project}-10")) == brute(
        state, lambda f: f["project"]["key"] == project
    ) - {f"{project}-{n}" for n in range(1, 11)}


def test_custom_fields_by_name_and_cf_id(state: SandboxState) -> None:
    by_name = set(keys(state, '"PMO Phase" = Execution'))
    assert by_name == set(keys(state, "cf[10100] = Execution"))
    assert by_name == brute(state, lambda f: (f.get("customfield_10100") or {}).get("value") == "Execution")
    big = set(keys(state, '"Story Points" >= 8'))
    assert big == brute(state, lambda f: (f.get("customfield_10016") or 0) >= 8)


def test_order_by_sorts_with_empty_last_and_key_desc_by_default(state: SandboxState) -> None:
    project = state.projects()[0]["key"]
    default = keys(state, f"project = {project}")
    assert default == sorted(default, key=lambda k: int(k.split("-")[1]), reverse=True)
    due = [state.issue(k)["fields"]["duedate"] for k in keys(state, f"project = {project} ORDER BY duedate ASC")]
    present = [d for d in due if d]
    assert present == sorted(present) and due[len(present) :] == [None] * (len(due) - len(present))
    newest = [state.issue(k)["fields"]["updated"] for k in keys(state, "updated >= -365d ORDER BY updated DESC")]
    assert newest == sorted(newest, reverse=True)
    by_status = keys(state, f"project = {project} ORDER BY status ASC, key ASC")
    assert by_status  # sorting on more than one field


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("foo = bar", "Field 'foo' does not exist or you do not have permission to view it."),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("status = Sleeping", "The value 'Sleeping' does not exist for the field 'status'."),
        ("labels > x", "The operator '>' is not supported by the 'labels' field."),
        ("summary = x", "The operator '=' is not supported by the 'summary' field."),
        ("updated > yesterday", "Date value 'yesterday' for field 'updated' is invalid."),
        ("assignee = nobody-at-all", "The value 'nobody-at-all' does not exist for the field 'assignee'."),
        ("assignee = membersOf(x)", "Unable to find JQL function 'membersOf()'."),
        ("key = ZZZ-999", "An issue with key 'ZZZ-999' does not exist for field 'key'."),
        ("issuetype = Task ORDER BY labels", "Field 'labels' does not support sorting."),
    ],
)
def test_meaning_errors_read_like_jira(state: SandboxState, jql: str, message: str) -> None:
    with pytest.raises(JqlError) as err:
        state.compile_jql(jql)
    assert message in str(err.value)


def test_current_user_and_text_search(state: SandboxState) -> None:
    assert keys(state, "assignee = currentUser()") == []  # the sandbox's own user owns nothing
    word = state.issues()[2]["fields"]["summary"].split()[-1]
    assert set(keys(state, f'summary ~ "{word}"')) == brute(state, lambda f: word.lower() in f["summary"].lower())
