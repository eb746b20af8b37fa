"""``GET /mypermissions``: which of the asked permissions the calling user has, site-wide or in a project.

The sandbox grants every permission unless a test withholds some (``sb.state.site.denied_permissions``, a
set of keys such as ``{"ADD_COMMENTS"}``); it does not enforce them on other endpoints, it only reports
them, which is what ``pmo-gates doctor`` reads.
"""

from __future__ import annotations

from pmo_gates.sandbox.api.core import Call, JiraError, Reply, Router

# key -> (id, name, type): Jira's built-in permissions as ``GET /permissions`` lists them.
PERMISSIONS: dict[str, tuple[str, str, str]] = {
    "ADMINISTER": ("0", "Administer Jira", "GLOBAL"),
    "BROWSE_PROJECTS": ("10", "Browse Projects", "PROJECT"),
    "CREATE_ISSUES": ("11", "Create Issues", "PROJECT"),
    "EDIT_ISSUES": ("12", "Edit Issues", "PROJECT"),
    "ASSIGN_ISSUES": ("13", "Assign Issues", "PROJECT"),
    "RESOLVE_ISSUES": ("14", "Resolve Issues", "PROJECT"),
    "ADD_COMMENTS": ("15", "Add Comments", "PROJECT"),
    "DELETE_ISSUES": ("16", "Delete Issues", "PROJECT"),
    "ASSIGNABLE_USER": ("17", "Assignable User", "PROJECT"),
    "CLOSE_ISSUES": ("18", "Close Issues", "PROJECT"),
    "LINK_ISSUES": ("21", "Link Issues", "PROJECT"),
    "ADMINISTER_PROJECTS": ("23", "Administer Projects", "PROJECT"),
    "EDIT_ALL_COMMENTS": ("34", "Edit All Comments", "PROJECT"),
    "EDIT_OWN_COMMENTS": ("35", "Edit Own Comments", "PROJECT"),
    "TRANSITION_ISSUES": ("46", "Transition Issues", "PROJECT"),
}


def my_permissions(call: Call) -> Reply:
    wanted = call.q_list("permissions")
    if not wanted:
        raise JiraError(400, "The 'permissions' query parameter is required.")
    unknown = [key for key in wanted if key not in PERMISSIONS]
    if unknown:
        raise JiraError(400, f"Unrecognized permission keys: {', '.join(unknown)}")
    project_ref = call.q("projectId") or call.q("projectKey")
    if project_ref and call.state.site.project(project_ref) is None:
        raise JiraError(404, f"No project could be found with key '{project_ref}'.")
    denied = call.state.site.denied_permissions
    body = {}
    for key in wanted:
        permission_id, name, type_ = PERMISSIONS[key]
        body[key] = {
            "id": permission_id,
            "key": key,
            "name": name,
            "type": type_,
            "description": f"Ability to {name.lower()}.",
            "havePermission": key not in denied,
        }
    return Reply(200, {"permissions": body})


def register(router: Router) -> None:
    router.add("GET", "/mypermissions", my_permissions)
