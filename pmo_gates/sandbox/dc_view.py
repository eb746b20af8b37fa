"""What a Data Center answer looks like: people by login name and user key, never by accountId.

The sandbox keeps one store of issues (users in them as Cloud references) and serves it as either flavour.
On Data Center every user object on the way out becomes ``{"name": login, "key": "JIRAUSER12345", ...}``
(no ``accountId``/``accountType``), and a changelog item about a user field names user keys in ``from``/
``to`` (DC has no ``tmpFromAccountId``). Explicit nulls are kept as they are.
"""

from __future__ import annotations

from typing import Any

from pmo_gates.sandbox.site_catalog import SiteCatalog

_CLOUD_ONLY_ITEM_KEYS = ("tmpFromAccountId", "tmpToAccountId")


def as_data_center(body: Any, site: SiteCatalog) -> Any:
    """``body`` (a JSON-ready reply) with every user in Data Center's shape; a new object, input untouched."""
    if isinstance(body, list):
        return [as_data_center(v, site) for v in body]
    if not isinstance(body, dict):
        return body
    if _is_user(body):
        return _user(body, site)
    if "fieldtype" in body and "field" in body:
        return _change_item(body, site)
    return {k: as_data_center(v, site) for k, v in body.items()}


def _is_user(obj: dict[str, Any]) -> bool:
    return isinstance(obj.get("accountId"), str) and ("displayName" in obj or "accountType" in obj)


def _user(ref: dict[str, Any], site: SiteCatalog) -> dict[str, Any]:
    user = site.user(ref["accountId"])
    if user is None:  # someone who left the site: DC still names them by the login it kept
        shown = {k: v for k, v in ref.items() if k not in ("accountId", "accountType")}
        return {"name": ref["accountId"], "key": ref["accountId"], **shown}
    out = site.dc_user_ref(user)
    for extra in ("emailAddress", "timeZone", "locale", "groups", "applicationRoles", "expand", "avatarUrls"):
        if extra in ref and extra not in out:
            out[extra] = ref[extra]
    return out


def _change_item(item: dict[str, Any], site: SiteCatalog) -> dict[str, Any]:
    out = {k: v for k, v in item.items() if k not in _CLOUD_ONLY_ITEM_KEYS}
    for side in ("from", "to"):
        value = out.get(side)
        if isinstance(value, str):
            user = site.user(value)
            if user is not None and user.get("accountId") == value:
                out[side] = site.dc_key(user)
    return out
