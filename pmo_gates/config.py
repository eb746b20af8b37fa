"""pmo-gates configuration: one YAML file (default ``./pmo-gates.yaml``), validated by pydantic.

Secrets never live in the file: it names the environment variables that hold them, and they are read
into ``SecretStr`` values so they cannot leak through repr, logs or errors.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pmo_gates.connectors.jql_bound import jql_bound_problem
from pmo_gates.defaults import DEFAULT_CONFIG as DEFAULT_CONFIG  # re-exported: its old home
from pmo_gates.reports.options import ReportOptions
from pmo_gates.rules.errors import RuleFileError
from pmo_gates.rules.facts.context import FactParams, FactThresholds
from pmo_gates.rules.registry import closest
from pmo_gates.rules.yaml_source import YamlDocument, load_yaml, read_bounded


class ConfigError(Exception):
    """A configuration problem, phrased as ``file:line: key: what is wrong``."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class JiraAuth(_Model):
    """Cloud: ``email`` + an API token; Data Center: a personal access token (``email`` left empty)."""

    email: str | None = Field(None, description="Atlassian account email (Cloud basic auth).")
    token_env: str = Field("PMO_GATES_JIRA_TOKEN", description="Environment variable holding the token/PAT.")

    def token(self) -> SecretStr | None:
        value = os.environ.get(self.token_env)
        return SecretStr(value) if value else None


class RetryConfig(_Model):
    max_attempts: int = Field(6, ge=1, le=20, description="Attempts per request, first one included.")
    max_total_seconds: float = Field(180, gt=0, le=86400, description="Give up once retrying has taken this long.")
    max_wait_seconds: float = Field(60, gt=0, le=3600, description="Longest single wait (a longer Retry-After fails).")
    initial_wait_seconds: float = Field(1, gt=0, le=600)


class JiraConfig(_Model):
    url: str = Field(..., description="Base URL, e.g. https://example.atlassian.net")
    flavour: Literal["auto", "cloud", "dc"] = Field("auto", description="auto reads serverInfo.deploymentType")
    auth: JiraAuth = JiraAuth()
    connect_timeout: float = Field(10, gt=0, le=600)
    read_timeout: float = Field(60, gt=0, le=3600)
    page_size: int = Field(100, ge=1, le=5000, description="Issues per search page.")
    retry: RetryConfig = RetryConfig()
    search_lag_seconds: float = Field(
        300,
        ge=0,
        le=86_400,
        description="How long JQL search may trail a write (Cloud's index is eventually consistent: seconds, "
        "sometimes minutes). A ticket whose create was sent but never recorded (a crash, a lost answer) is not "
        "created again until this long after the send: until then an empty search proves nothing.",
    )
    markup: Literal["wiki", "adf"] = Field(
        "wiki",
        description="Text we write (tickets, comments): wiki markup through REST v2 (Cloud and Data Center), "
        "or Atlassian Document Format through REST v3 (Cloud only).",
    )

    @field_validator("markup")
    @classmethod
    def _markup_fits_flavour(cls, value: str, info: ValidationInfo) -> str:
        # Refused with flavour auto too: auto may detect a Data Center, which has no REST v3 to send ADF to.
        if value == "adf" and info.data.get("flavour", "cloud") != "cloud":
            raise ValueError(
                "adf needs Jira Cloud (REST v3); set jira.flavour: cloud, or use markup: wiki (Data Center and auto)"
            )
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        if "@" in value.split("//", 1)[1].split("/", 1)[0]:
            raise ValueError("must not embed credentials; use jira.auth")
        return value.rstrip("/")


class PortfolioConfig(_Model):
    projects: list[str] = Field(default_factory=list, description="Jira project keys in the portfolio.")
    jql: str | None = Field(None, description="Extra JQL restricting the synced issues (ANDed with the projects).")
    anchor_issue_type: str = Field(
        "Project", description="Issue type of the one issue per project holding PMO metadata."
    )

    @field_validator("jql")
    @classmethod
    def _jql_stays_in_bound(cls, value: str | None) -> str | None:
        problem = jql_bound_problem(value) if value else None
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _some_scope(self) -> PortfolioConfig:
        if not self.projects and not self.jql:
            raise ValueError("set portfolio.projects or portfolio.jql")
        return self


class FieldMap(_Model):
    """PMO metadata mapped from Jira fields **by name** (resolved to ids through GET /field)."""

    phase: str = "PMO Phase"
    planned_start: str = "Planned Start"
    planned_end: str = "Planned End"
    baseline_date: str = "Phase Baseline Date"
    budget: str = "Budget"
    actual_cost: str = "Actual Cost"
    hourly_rate: str = "Hourly Rate"
    project_manager: str = "Project Manager"
    strategic_value: str = "Strategic Value"
    expected_roi: str = "Expected ROI"
    charter: str = "Charter"
    budget_approved: str = "Budget Approved"
    lessons_learned: str = "Lessons Learned"
    story_points: str = "Story Points"
    sprint: str = "Sprint"
    epic_link: str = "Epic Link"


class DatabaseConfig(_Model):
    url: str = Field("sqlite:///pmo-gates.db", description="SQLAlchemy URL; env PMO_GATES_DATABASE_URL wins.")


class SyncConfig(_Model):
    overlap_minutes: int = Field(5, ge=0, le=1440, description="Re-read this much before the watermark.")
    sync_worklogs: bool = True
    full_sync_every_days: int = Field(7, ge=1, le=365, description="Reconcile deletions with a full sync this often.")
    # Concurrency and pacing (issue 13): one adaptive budget shared by every worker; see docs/sync.md.
    concurrency: int = Field(4, ge=1, le=32, description="Requests in flight at most (workers of a full sync).")
    requests_per_second: float = Field(
        10, gt=0, le=1000, description="Requests per second at most; halved on a 429/503, recovered gradually."
    )
    partitions: int = Field(
        0, ge=0, le=1000, description="Project groups a full sync reads in parallel; 0 = 2 per worker."
    )


class RulesConfig(_Model):
    paths: list[Path] = Field(default_factory=list, description="Rule files/folders; empty = the shipped packs.")
    enabled_packs: list[Literal["establishment", "standardization", "maturity"]] = Field(
        default_factory=lambda: ["establishment", "standardization", "maturity"]
    )
    waivers: list[Path] = Field(default_factory=list)


class EscalationStep(_Model):
    after_days: int = Field(..., ge=0, description="Days past the ticket's due date.")
    action: Literal["comment", "raise_priority", "assign_pmo_lead", "mention_pmo_lead"]
    priority: str | None = None


class ConfirmConfig(_Model):
    """How long to wait for Jira's state after an ambiguous write (a timeout or dropped connection on a
    create or a comment) before leaving the item pending for the next run instead of sending it again.
    ``wait_seconds`` must exceed Jira's processing time plus its search index lag."""

    wait_seconds: float = Field(120, ge=0, le=3600, description="Polling window per ambiguous write.")
    first_poll_seconds: float = Field(1, gt=0, le=60, description="First wait between polls (doubles).")
    max_poll_seconds: float = Field(15, gt=0, le=600, description="Longest wait between polls.")
    budget_seconds: float = Field(600, ge=0, le=86_400, description="Total polling per run; then pending.")


class ActionsConfig(_Model):
    project: str | None = Field(None, description="Jira project for tickets; default: the finding's project.")
    issue_type: str = "Task"
    label: str = Field("pmo-gates", description="Label on every ticket we own (fingerprint label added too).")
    pmo_lead: str | None = Field(None, description="accountId (Cloud) or username (DC) of the PMO lead.")
    approval: bool = Field(False, description="Pause the flow for approval of the plan in the Prefect UI.")
    approval_timeout_seconds: int = Field(3600, ge=1)
    confirm: ConfirmConfig = Field(default_factory=ConfirmConfig)
    escalation: list[EscalationStep] = Field(
        default_factory=lambda: [
            EscalationStep(after_days=0, action="comment"),
            EscalationStep(after_days=7, action="raise_priority", priority="High"),
            EscalationStep(after_days=14, action="mention_pmo_lead"),
        ]
    )


class ScheduleConfig(_Model):
    timezone: str = "UTC"
    sync: str = "0 * * * *"
    corrective_actions: str = "0 6 * * *"
    gate_review: str = "0 7 * * 1"
    delay_root_cause: str = "0 8 1 * *"
    portfolio_report: str = "0 9 * * 1"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not an IANA time zone (e.g. UTC, Europe/Paris, America/New_York)") from None
        return value

    # check_fields=False: the schedule keys may change (flows); a validator must not break the class.
    @field_validator(
        "sync", "corrective_actions", "gate_review", "delay_root_cause", "portfolio_report", check_fields=False
    )
    @classmethod
    def _cron(cls, value: Any) -> Any:
        problem = cron_problem(value) if isinstance(value, str) else None
        if problem is not None:
            raise ValueError(problem)
        return value


# croniter (Prefect's parser) reads these; cronsim wants the five fields they stand for.
CRON_NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def cron_problem(expression: str) -> str | None:
    """Why Prefect would refuse ``expression`` as a cron schedule, or None."""
    # Prefect refuses croniter's random (R) and hashed (H) forms; cronsim reads the standard ones.
    if any(part.upper() in ("R", "H") or part.upper().startswith("H(") for part in expression.split()):
        return "random (R) and hashed (H) cron forms are not supported"
    try:
        CronSim(CRON_NICKNAMES.get(expression.strip().lower(), expression), datetime(2000, 1, 1))
    except (CronSimError, ValueError):
        return "not a cron expression (five fields: minute hour day-of-month month day-of-week)"
    return None


class TimeoutConfig(_Model):
    """Longest a flow run may take, in seconds, per flow (the keys of ``schedules``). A run past it fails as
    Prefect's ``TimedOut`` state. A suspended approval does not count: the run restarts after Resume."""

    sync: int = Field(3600, ge=1)
    corrective_actions: int = Field(3600, ge=1)
    gate_review: int = Field(7200, ge=1)
    delay_root_cause: int = Field(7200, ge=1)
    portfolio_report: int = Field(3600, ge=1)


class ReportsConfig(ReportOptions):
    """The ``reports:`` section: where reports go, plus their targets and thresholds."""

    out_dir: Path = Field(Path("pmo-gates-reports"), description="Folder for index.html, charts and CSV files.")

    def options(self) -> ReportOptions:
        return ReportOptions(**self.model_dump(exclude={"out_dir"}))


class Settings(_Model):
    """The whole configuration file."""

    jira: JiraConfig
    portfolio: PortfolioConfig
    fields: FieldMap = FieldMap()
    database: DatabaseConfig = DatabaseConfig()
    sync: SyncConfig = SyncConfig()
    rules: RulesConfig = RulesConfig()
    actions: ActionsConfig = ActionsConfig()
    schedules: ScheduleConfig = ScheduleConfig()
    timeouts: TimeoutConfig = TimeoutConfig()
    reports: ReportsConfig = ReportsConfig()
    facts: FactThresholds = FactThresholds()
    today: date | None = Field(None, description="Pin 'today' (replays, tests); default: the real date.")

    def database_url(self) -> str:
        return os.environ.get("PMO_GATES_DATABASE_URL") or self.database.url

    def fact_params(self) -> FactParams:
        """The facts' parameters: ``facts:`` plus the anchor issue type and the phase field named elsewhere."""
        return FactParams(
            **self.facts.model_dump(),
            anchor_issue_type=self.portfolio.anchor_issue_type,
            phase_field_names=(self.fields.phase,),
        )


def _line_of(document: YamlDocument, loc: tuple[Any, ...]) -> int | None:
    """Line (1-based) of the deepest key (or list item) in ``loc`` written in the file."""
    for size in range(len(loc), 0, -1):
        prefix = loc[:size]
        if prefix in document.keys:
            return document.keys[prefix][0]
        if isinstance(prefix[-1], int) and prefix in document.values:
            return document.values[prefix][0]
    return None


def parse_settings(text: str, source: str = "<config>") -> Settings:
    # The rule files' bounded reader: no aliases, bounded size, depth and numbers, finite floats.
    document = load_yaml(source, text, name=source)
    if isinstance(document, RuleFileError):
        raise ConfigError(str(document))
    data = document.data if document.data is not None else {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}:1: the config must be a mapping of keys")
    sections = list(Settings.model_fields)
    if data and not any(name in sections or closest(name, sections) for name in data):
        # Maybe not a config at all (a secrets file passed by mistake): quote none of its keys.
        raise ConfigError(
            f"{source}:1: not a pmo-gates config: none of its top-level keys is one of {', '.join(sections)}"
        )
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            key = ".".join(str(p) for p in loc) or "(top level)"
            where = f"{source}:{_line_of(document, loc) or 1}"  # a missing top-level section: line 1
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown key"
            lines.append(f"{where}: {key}: {message}")
        raise ConfigError("\n".join(lines)) from None


def load_settings(path: Path | str | None = None) -> Settings:
    path = Path(path) if path else DEFAULT_CONFIG
    if not path.exists():
        raise ConfigError(f"{path}: config file not found (pass --config or create it)")
    text = read_bounded(path, str(path))
    if isinstance(text, RuleFileError):
        raise ConfigError(str(text))
    return parse_settings(text, str(path))
