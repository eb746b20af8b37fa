"""Raw Jira issues -> store rows, including bad data stored as far as it is valid, named by key and field."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest

from pmo_gates.config import FieldMap
from pmo_gates.connectors.fields import resolve_fields
from pmo_gates.connectors.mapping import (
    DataError,
    changelog_truncated,
    map_issue,
    parse_sprint,
    person_id,
    worklogs_truncated,
)

NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
FIELDS = [
    {"id": "summary", "name": "Summary", "custom": False, "schema": {"type": "string", "system": "summary"}},
    *[
        {"id": f"customfield_{num}", "name": name, "custom": True, "schema": {"type": "any", "custom": f"x:{t}"}}
        for num, name, t in [
            (10100, "PMO Phase", "select"),
            (10101, "Planned Start", "datepicker"),
            (10102, "Planned End", "datepicker"),
            (10103, "Budget", "float"),
            (10104, "Actual Cost", "float"),
            (10105, "Project Manager", "userpicker"),
            (10106, "Strategic Value", "float"),
            (10107, "Expected ROI", "float"),
            (10108, "Charter", "url"),
            (10109, "Budget Approved", "select"),
            (10110, "Lessons Learned", "textarea"),
            (10111, "Phase Baseline Date", "datepicker"),
            (10112, "Hourly Rate", "float"),
        ]
    ],
    {"id": "customfield_10016", "name": "Story Points", "custom": True, "schema": {"custom": "x:float"}},
    {"id": "customfield_10020", "name": "Sprint", "custom": True, "schema": {"custom": "x:gh-sprint"}},
    {"id": "customfield_10014", "name": "Epic Link", "custom": True, "schema": {"custom": "x:gh-epic-link"}},
]
IDS = resolve_fields(FIELDS, FieldMap())
ADF_DOC = {"type": "doc", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "ADF"}]}]}
LEGACY_CLOSED = (
    "com.atlassian.greenhopper.service.sprint.Sprint@14b1c359[id=1,rapidViewId=1,state=CLOSED,name=Old Sprint,"
    "startDate=2026-01-01T00:00:00.000Z,endDate=<null>,completeDate=<null>,sequence=1,goal=]"
)
LEGACY_ACTIVE = "com.atlassian.greenhopper.service.sprint.Sprint@1[id=2,state=ACTIVE,name=Sprint, with comma,goal=x]"
PM = {"accountId": "acc-pm", "displayName": "Pat Manager", "active": True}


def _issue(**fields) -> dict:
    base = {
        "summary": "Build the thing",
        "issuetype": {"name": "Story"},
        "project": {"id": "10000", "key": "CPR", "name": "Customer Portal"},
        "status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
        "priority": {"name": "High"},
        "assignee": {"accountId": "acc-1", "displayName": "Ada Okafor", "active": True},
        "reporter": {"accountId": "acc-2", "displayName": "Ben Lindqvist", "active": False},
        "created": "2026-10-01T09:00:00.000+0000",
        "updated": "2026-10-05T10:15:30.000+0200",
        "resolutiondate": None,
        "duedate": "2026-12-01",
        "labels": ["blocked"],
        "customfield_10016": 5.0,
        "customfield_10020": [{"id": 1, "name": "CPR Sprint 1", "state": "closed"}],
        "parent": {"id": "10001", "key": "CPR-1"},
        "issuelinks": [
            {"id": "900", "type": {"name": "Blocks"}, "outwardIssue": {"key": "DWM-4"}},
            {"id": "901", "type": {"name": "Blocks"}, "inwardIssue": {"key": "CPR-9"}},
        ],
        "timeoriginalestimate": 28800,
        "timespent": 3600,
        "timeestimate": 25200,
        "worklog": {
            "startAt": 0,
            "maxResults": 20,
            "total": 1,
            "worklogs": [
                {
                    "id": "5001",
                    "author": {"accountId": "acc-1", "displayName": "Ada Okafor"},
                    "started": "2026-10-02T08:00:00.000+0000",
                    "timeSpentSeconds": 3600,
                }
            ],
        },
    }
    base.update(fields)
    return {
        "id": "10007",
        "key": "CPR-7",
        "fields": base,
        "changelog": {
            "startAt": 0,
            "maxResults": 1,
            "total": 1,
            "histories": [
                {
                    "id": "100",
                    "author": {"accountId": "acc-1", "displayName": "Ada Okafor"},
                    "created": "2026-10-03T09:00:00.000+0000",
                    "items": [
                        {"field": "status", "fromString": "To Do", "toString": "In Progress", "from": "1", "to": "3"},
                        {"field": "assignee", "to": "acc-1", "toString": "Ada Okafor"},
                    ],
                }
            ],
        },
    }


def _anchor(**custom) -> dict:
    raw = _issue(issuetype={"name": "Project"})
    raw["fields"].update(
        {
            "customfield_10100": {"value": "Execution", "id": "10202"},
            "customfield_10101": "2026-01-10",
            "customfield_10102": "2026-12-20",
            "customfield_10103": 120000.0,
            "customfield_10104": 50000.5,
            "customfield_10106": 4.0,
            "customfield_10107": 1.5,
            "customfield_10108": "https://wiki.example.com/charter",
            "customfield_10109": {"value": "Yes"},
            "customfield_10110": "Start earlier.",
            "customfield_10111": "2026-03-01",
            "customfield_10112": 90,
            "customfield_10105": PM,
        }
    )
    raw["fields"].update(custom)
    return raw


def _map(raw: dict, **kw):
    result = map_issue(raw, IDS, anchor_issue_type="Project", synced_at=NOW, **kw)
    assert not isinstance(result, DataError)
    return result


def test_a_clean_issue_maps_to_every_table():
    m = _map(_issue())
    row = m.issue
    assert row["id"] == 10007 and row["key"] == "CPR-7" and row["project_key"] == "CPR"
    assert (row["issue_type"], row["status"], row["status_category"]) == ("Story", "In Progress", "indeterminate")
    assert row["updated"] == datetime(2026, 10, 5, 8, 15, 30, tzinfo=UTC)  # +0200 normalised to UTC
    assert row["due_date"] == date(2026, 12, 1)
    assert (row["story_points"], row["sprint"], row["parent_key"]) == (5.0, "CPR Sprint 1", "CPR-1")
    assert (row["original_estimate_s"], row["time_spent_s"], row["remaining_estimate_s"]) == (28800, 3600, 25200)
    assert row["data_errors"] == [] and m.errors == []
    assert {(link["from_key"], link["to_key"]) for link in m.links} == {("CPR-7", "DWM-4"), ("CPR-9", "CPR-7")}
    assert [(c["history_id"], c["item_index"], c["field"]) for c in m.changelog] == [
        ("100", 0, "status"),
        ("100", 1, "assignee"),
    ]
    assert m.changelog[0]["to_string"] == "In Progress" and m.changelog[1]["from_value"] is None
    assert [(w["id"], w["time_spent_s"], w["author_id"]) for w in m.worklogs] == [("5001", 3600, "acc-1")]
    assert m.people["acc-2"] == {
        "account_id": "acc-2", "display_name": "Ben Lindqvist", "active": False, "user_key": None, "login": None,
    }  # fmt: skip
    assert m.project is None


def test_anchor_issue_yields_project_metadata():
    m = _map(_anchor())
    p = m.project
    assert p is not None and m.errors == []
    assert p["key"] == "CPR" and p["jira_id"] == "10000" and p["anchor_issue_key"] == "CPR-7"
    assert p["phase"] == "execution"
    assert (p["planned_start"], p["planned_end"], p["baseline_date"]) == (
        date(2026, 1, 10),
        date(2026, 12, 20),
        date(2026, 3, 1),
    )
    assert (p["budget"], p["actual_cost"], p["hourly_rate"]) == (120000.0, 50000.5, 90.0)
    assert (p["project_manager_id"], p["project_manager_name"]) == ("acc-pm", "Pat Manager")
    assert p["budget_approved"] is True and p["charter_url"] == "https://wiki.example.com/charter"
    assert p["lessons_learned"] == "Start earlier."
    assert p["metadata_json"]["phase"] == {"value": "Execution", "id": "10202"}


@pytest.mark.parametrize(
    ("field_id", "value", "column", "stored", "field_name"),
    [
        ("customfield_10103", "lots", "budget", None, "budget"),
        ("customfield_10103", "1250.5", "budget", 1250.5, None),  # a numeric string is still a number
        ("customfield_10103", float("nan"), "budget", None, "budget"),
        ("customfield_10101", "next spring", "planned_start", None, "planned_start"),
        ("customfield_10102", "2026-13-45", "planned_end", None, "planned_end"),
        ("customfield_10100", {"value": "Gardening"}, "phase", None, "phase"),
        ("customfield_10100", "  PLANNING ", "phase", "planning", None),
        ("customfield_10109", {"value": "Maybe"}, "budget_approved", None, "budget_approved"),
        ("customfield_10109", [{"value": "Yes"}], "budget_approved", True, None),
        ("customfield_10109", {"value": "No"}, "budget_approved", False, None),
        ("customfield_10108", "wiki page somewhere", "charter_url", None, "charter"),
        ("customfield_10105", "just a name", "project_manager_id", None, "project_manager"),
        ("customfield_10110", ADF_DOC, "lessons_learned", "ADF", None),
    ],
)  # fmt: skip
def test_bad_project_metadata_is_reported_by_key_and_field(field_id, value, column, stored, field_name):
    m = _map(_anchor(**{field_id: value}))
    assert m.project is not None
    assert m.project[column] == stored
    names = [e.field for e in m.errors]
    if field_name is None:
        assert names == []
    else:
        assert names == [field_name] and m.errors[0].key == "CPR-7"
        assert any(s.startswith(f"{field_name}: ") for s in m.issue["data_errors"])
    assert m.project["budget"] is not None or column == "budget"  # the other fields are still stored


def test_null_and_missing_fields_are_not_errors():
    raw = _issue(assignee=None, priority=None, duedate=None, labels=None, customfield_10016=None, parent=None)
    del raw["fields"]["customfield_10020"]
    del raw["fields"]["worklog"]
    m = _map(raw)
    assert m.errors == []
    row = m.issue
    assert (row["assignee_id"], row["priority"], row["due_date"], row["story_points"]) == (None, None, None, None)
    assert row["labels"] == [] and row["sprint"] is None and row["parent_key"] is None and m.worklogs == []


def test_bad_issue_values_are_stored_as_far_as_valid():
    raw = _issue(
        summary="Fix \x00the\ud800 thing",
        customfield_10016="five",
        duedate="someday",
        updated="yesterday",
        timespent="1h",
        status={"name": "Weird", "statusCategory": {"key": "sideways"}},
    )
    m = _map(raw)
    fields = {e.field for e in m.errors}
    assert {"summary", "story_points", "duedate", "updated", "timespent", "status.statusCategory"} <= fields
    assert all(e.key == "CPR-7" for e in m.errors)
    row = m.issue
    assert row["summary"] == "Fix the? thing"
    assert row["story_points"] is None and row["due_date"] is None and row["time_spent_s"] is None
    assert row["updated"] == row["created"] and m.updated_valid is False
    assert row["status"] == "Weird" and row["status_category"] == "new"
    assert row["assignee_id"] == "acc-1"  # the rest is kept


def test_long_values_are_cut_to_their_column():
    m = _map(_issue(customfield_10020=[{"name": "S" * 300, "state": "active"}], priority={"name": "P" * 40}))
    assert len(m.issue["sprint"]) == 255 and len(m.issue["priority"]) == 32
    assert {e.field for e in m.errors} == {"sprint", "priority"}


def test_unknown_custom_fields_and_odd_unicode_pass_through():
    m = _map(_issue(customfield_99999={"anything": [1, 2]}, summary="Überprüfung ✅ 日本語 \u200b"))
    assert m.errors == [] and m.issue["summary"] == "Überprüfung ✅ 日本語 \u200b"


def test_issue_without_id_or_key_is_skipped_with_an_error():
    raw = _issue()
    raw["id"] = None
    result = map_issue(raw, IDS, anchor_issue_type="Project", synced_at=NOW)
    assert isinstance(result, DataError) and result.key == "CPR-7" and result.field == "id"


@pytest.mark.parametrize(
    ("value", "name", "problem"),
    [
        ([{"name": "S1", "state": "closed"}, {"name": "S2", "state": "active"}, {"name": "S3"}], "S2", None),
        ([{"name": "S1", "state": "closed"}, {"name": "S2", "state": "closed"}], "S2", None),
        ([LEGACY_CLOSED, LEGACY_ACTIVE], "Sprint, with comma", None),
        ([LEGACY_CLOSED], "Old Sprint", None),
        ({"name": "Solo", "state": "active"}, "Solo", None),
        (None, None, None),
        (["garbage"], None, "unrecognised sprint value 'garbage'"),
        ([42], None, "unrecognised sprint value of type int"),
    ],
)  # fmt: skip
def test_sprint_in_object_and_legacy_string_form(value, name, problem):
    assert parse_sprint(value) == (name, problem)


def test_data_center_epic_link_and_user_names():
    dc_user = {"name": "ada", "key": "JIRAUSER1", "displayName": "Ada"}
    raw = _issue(parent=None, customfield_10014="CPR-2", assignee=dc_user)
    m = _map(raw)
    # Keyed by the login, which Data Center's writes ({"name": ...}) and mentions ([~ada]) take; not the key.
    assert m.issue["parent_key"] == "CPR-2" and m.issue["assignee_id"] == "ada"
    # Both of Data Center's names are kept: the key (immutable, what changelogs carry) and the login.
    assert (m.people["ada"]["user_key"], m.people["ada"]["login"]) == ("JIRAUSER1", "ada")
    cloud = _map(_issue(assignee={"accountId": "5b10", "displayName": "Ada"}))
    assert (cloud.people["5b10"]["user_key"], cloud.people["5b10"]["login"]) == (None, None)
    assert person_id({"key": "JIRAUSER1", "displayName": "Ada"}) == "JIRAUSER1"
    assert person_id({"accountId": "5b10", "name": "ada", "key": "JIRAUSER1"}) == "5b10"


def test_explicit_histories_and_worklogs_replace_truncated_embedded_ones():
    raw = _issue()
    raw["changelog"]["total"] = 3
    raw["fields"]["worklog"]["total"] = 2
    assert changelog_truncated(raw) and worklogs_truncated(raw)
    full = copy.deepcopy(raw["changelog"]["histories"])
    full.append({"id": "101", "created": "2026-10-04T09:00:00.000+0000", "items": [{"field": "labels"}]})
    wl = raw["fields"]["worklog"]["worklogs"] + [
        {"id": "5002", "author": None, "started": "2026-10-03T08:00:00.000+0000", "timeSpentSeconds": 60}
    ]
    m = _map(raw, histories=full, worklogs=wl)
    assert len(m.changelog) == 3 and len(m.worklogs) == 2
    assert not changelog_truncated(_issue()) and not worklogs_truncated(_issue())


def test_bad_changelog_and_worklog_entries_are_skipped_not_fatal():
    raw = _issue()
    raw["changelog"]["histories"].append({"id": "102", "created": "bad", "items": [{"field": "x"}]})
    raw["fields"]["worklog"]["worklogs"].append({"id": "5003", "started": "2026-10-03", "timeSpentSeconds": "lots"})
    m = _map(raw)
    assert len(m.changelog) == 2 and len(m.worklogs) == 1
    assert {e.field for e in m.errors} == {"changelog[102].created", "worklog[5003].timeSpentSeconds"}
