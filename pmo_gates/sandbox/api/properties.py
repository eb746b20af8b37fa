"""Issue entity properties: list keys, get, set (201 created / 200 updated), delete."""

from __future__ import annotations

import json

from pmo_gates.sandbox.api.core import Call, JiraError, Reply, Router
from pmo_gates.sandbox.api.issues import field_errors, require_issue
from pmo_gates.sandbox.field_input import FieldErrors


def list_properties(call: Call) -> Reply:
    issue = require_issue(call, call.params["key"])
    keys = [
        {"self": call.api_url(f"issue/{issue['id']}/properties/{key}"), "key": key}
        for key in call.state.properties(issue["key"])
    ]
    return Reply(200, {"keys": keys})


def get_property(call: Call) -> Reply:
    issue = require_issue(call, call.params["key"])
    props = call.state.properties(issue["key"])
    prop_key = call.params["prop"]
    if prop_key not in props:
        raise JiraError(404, f"The property with key '{prop_key}' does not exist.")
    return Reply(200, {"key": prop_key, "value": props[prop_key]})


def set_property(call: Call) -> Reply:
    issue = require_issue(call, call.params["key"])
    if not call.raw_body.strip():
        raise JiraError(400, "The property value must not be empty.")
    try:
        value = json.loads(call.raw_body)
    except ValueError:
        raise JiraError(400, "The property value must be valid JSON.") from None
    try:
        created = call.state.set_property(issue["key"], call.params["prop"], value)
    except FieldErrors as exc:
        raise field_errors(exc) from None
    return Reply(201 if created else 200)


def delete_property(call: Call) -> Reply:
    issue = require_issue(call, call.params["key"])
    if not call.state.delete_property(issue["key"], call.params["prop"]):
        raise JiraError(404, f"The property with key '{call.params['prop']}' does not exist.")
    return Reply(204)


def register(router: Router) -> None:
    router.add("GET", "/issue/{key}/properties", list_properties)
    router.add("GET", "/issue/{key}/properties/{prop}", get_property)
    router.add("PUT", "/issue/{key}/properties/{prop}", set_property)
    router.add("DELETE", "/issue/{key}/properties/{prop}", delete_property)
