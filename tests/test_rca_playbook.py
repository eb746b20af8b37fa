"""The RCA playbook file: the shipped one validates; each kind of mistake is reported at file:line:col."""

from __future__ import annotations

import textwrap

import pytest

from pmo_gates.rca.causes import CAUSES
from pmo_gates.rca.playbook import PLAYBOOKS_DIR, TEMPLATE_VARIABLES, load_playbook, parse_playbook
from pmo_gates.rca.registry import cause_registry
from pmo_gates.rca.yamlfile import PlaybookError


def test_shipped_playbook_configures_every_cause_with_remedies():
    playbook = load_playbook()
    assert set(cause_registry.names()) == set(CAUSES)
    for name in CAUSES:
        assert playbook.cause(name).remedies, name
    kinds = {remedy.kind for remedy in playbook.remedies.values()}
    assert kinds == {
        "efficiency_improvement",
        "overtime",
        "staffing_adjustment",
        "workflow_reordering",
        "change_control",
        "dependency_escalation",
    }
    assert playbook.detection.slip_days == 14 and playbook.detection.spi_below == 0.85


def test_defaults_apply_to_causes_left_out():
    playbook = parse_playbook("kind: rca-playbook\n")
    assert playbook.cause("scope_creep").params.min_growth_pct == 10
    assert playbook.cause("rework").enabled


def errors(text: str) -> list[str]:
    with pytest.raises(PlaybookError) as info:
        parse_playbook(textwrap.dedent(text).lstrip(), "rca.yaml")
    return str(info.value).splitlines()


def test_unknown_cause_and_unknown_parameter_are_located():
    assert errors(
        """
        kind: rca-playbook
        causes:
          scope_creap:
            weight: 1
          rework:
            params:
              min_rate: 5
        """
    ) == [
        "rca.yaml:3:3: causes.scope_creap: unknown key",
        "rca.yaml:7:7: causes.rework.params.min_rate: unknown key",
    ]


def test_wrong_types_and_ranges_are_located():
    assert errors(
        """
        kind: rca-playbook
        detection:
          slip_days: soon
          spi_below: 1.5
        """
    ) == [
        "rca.yaml:3:14: detection.slip_days: Input should be a valid number, unable to parse string as a number",
        "rca.yaml:4:14: detection.spi_below: Input should be less than or equal to 1",
    ]


def test_remedy_references_and_templates_are_checked_after_the_schema():
    assert errors(
        """
        kind: rca-playbook
        causes:
          rework:
            remedies: [quality_gate, overtimee]
        remedies:
          quality_gate:
            kind: efficiency_improvement
            title: Better done
            action: Fix $issues in ${project} for $owner, pay $$5
        """
    ) == [
        "rca.yaml:4:30: causes.rework.remedies.1: unknown remedy 'overtimee' (known: quality_gate)",
        f"rca.yaml:9:43: remedies.quality_gate.action: unknown variable $owner (known: {sorted(TEMPLATE_VARIABLES)})",
    ]


def test_remedy_kind_must_be_one_of_the_playbook_kinds():
    lines = errors(
        """
        kind: rca-playbook
        remedies:
          pray:
            kind: hope
            title: Hope
            action: Hope.
        """
    )
    assert len(lines) == 1 and lines[0].startswith("rca.yaml:4:11: remedies.pray.kind: Input should be")


def test_yaml_syntax_error_and_wrong_kind():
    assert errors("kind: rca-playbook\ncauses: [\n")[0].startswith("rca.yaml:3:1: YAML syntax error")
    assert errors("kind: rules\n")[0].startswith("rca.yaml:1:7: kind: Input should be 'rca-playbook'")
    assert errors("- a list\n") == ["rca.yaml:1:1: the file must be a mapping of keys"]


def test_missing_file_is_named():
    with pytest.raises(PlaybookError, match=r"nowhere\.yaml: cannot read"):
        load_playbook(PLAYBOOKS_DIR / "nowhere.yaml")
