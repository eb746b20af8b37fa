"""Doctor's answer: one ``Check`` per thing looked at, each problem with the fix, and whether it blocks a
gate review (``pmo-gates doctor`` exits 1 then)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

Status = Literal["ok", "warn", "fail", "skip"]


class Check(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(description="What was checked, e.g. jira.auth, permission.ADD_COMMENTS, anchor.CPR")
    status: Status
    detail: str
    fix: str | None = Field(None, description="What to do about a problem, naming the config key or command.")
    blocking: bool = Field(False, description="A failure that stops a gate review from judging projects.")
    project: str | None = None


class DoctorReport(BaseModel):
    checks: list[Check] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def blocking(self) -> list[str]:
        """Ids of the failed checks that block a review."""
        return [c.id for c in self.checks if c.status == "fail" and c.blocking]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return not self.blocking

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.status in ("warn", "fail")]

    def render_text(self) -> str:
        marks = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL", "skip": "skip"}
        lines = []
        for check in self.checks:
            lines.append(f"{marks[check.status]}  {check.id}: {check.detail}")
            if check.fix and check.status in ("warn", "fail"):
                lines.append(f"      fix: {check.fix}")
        problems = self.problems()
        blocking = len(self.blocking)
        if not problems:
            lines.append("All checks passed: this Jira and store are ready for gate reviews.")
        else:
            lines.append(
                f"{len(problems)} problem{'s' if len(problems) != 1 else ''}; "
                + (
                    f"{blocking} block{'s' if blocking == 1 else ''} a gate review."
                    if blocking
                    else "none blocks a review."
                )
            )
        return "\n".join(lines)
