"""The sandbox serves what ``pmo-gates doctor`` and ``init`` call, held to Atlassian's OpenAPI description:
GET /mypermissions, and on Cloud POST /field with its context, options and default screen."""

from __future__ import annotations

import requests

from pmo_gates.sandbox import SandboxServer
from tests.fixtures_sandbox import EMAIL, TOKEN, contract, small


def _session() -> requests.Session:
    session = requests.Session()
    session.auth = (EMAIL, TOKEN)
    session.headers["Content-Type"] = "application/json"
    return session


def test_mypermissions_reports_granted_and_withheld_permissions() -> None:
    with SandboxServer(small(), auth=(EMAIL, TOKEN), validate=contract()) as sb:
        project = sb.state.projects()[0]["key"]
        sb.state.site.denied_permissions.add("ADD_COMMENTS")
        http = _session()
        url = f"{sb.url}/rest/api/2/mypermissions"
        answer = http.get(url, params={"projectKey": project, "permissions": "BROWSE_PROJECTS,ADD_COMMENTS"})
        assert answer.status_code == 200
        got = answer.json()["permissions"]
        assert got["BROWSE_PROJECTS"]["havePermission"] is True
        assert got["ADD_COMMENTS"]["havePermission"] is False
        assert http.get(url).status_code == 400  # the permissions parameter is required
        assert http.get(url, params={"permissions": "NOT_A_PERMISSION"}).status_code == 400
        assert http.get(url, params={"projectKey": "NOPE", "permissions": "BROWSE_PROJECTS"}).status_code == 404
        assert sb.contract_violations == []


def test_a_custom_select_field_is_created_with_its_options_on_cloud() -> None:
    with SandboxServer(small(), auth=(EMAIL, TOKEN), validate=contract()) as sb:
        http = _session()
        base = f"{sb.url}/rest/api/3"
        created = http.post(
            f"{base}/field",
            json={
                "name": "Gate Phase",
                "type": "com.atlassian.jira.plugin.system.customfieldtypes:select",
                "searcherKey": "com.atlassian.jira.plugin.system.customfieldtypes:multiselectsearcher",
            },
        )
        assert created.status_code == 201, created.text
        field_id = created.json()["id"]
        assert any(f["id"] == field_id and f["name"] == "Gate Phase" for f in http.get(f"{base}/field").json())
        contexts = http.get(f"{base}/field/{field_id}/context").json()["values"]
        assert len(contexts) == 1 and contexts[0]["isGlobalContext"]
        options = http.post(
            f"{base}/field/{field_id}/context/{contexts[0]['id']}/option",
            json={"options": [{"value": "Initiation"}, {"value": "Planning"}]},
        )
        assert options.status_code == 200
        assert [o["value"] for o in options.json()["options"]] == ["Initiation", "Planning"]
        assert http.post(f"{base}/screens/addToDefault/{field_id}").status_code == 200
        bad = http.post(f"{base}/field", json={"name": "X", "type": "com.example:unknown"})
        assert bad.status_code == 400
        assert sb.contract_violations == []


def test_data_center_has_no_field_creation_through_rest() -> None:
    with SandboxServer(small(), flavour="dc", auth=(EMAIL, TOKEN)) as sb:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {TOKEN}"
        answer = http.post(
            f"{sb.url}/rest/api/2/field",
            json={"name": "X", "type": "com.atlassian.jira.plugin.system.customfieldtypes:float"},
        )
        assert answer.status_code == 404
