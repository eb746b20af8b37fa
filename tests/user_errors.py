"""What a user-facing error must look like: a non-zero exit, no traceback, one or two lines naming the thing."""

from __future__ import annotations

from click.testing import Result


def assert_user_error(result: Result, *named: str, code: int | None = None) -> str:
    """The error text of ``result``, after checking it is a clean user-facing error naming each of ``named``."""
    assert result.exit_code != 0, result.output
    if code is not None:
        assert result.exit_code == code, (result.exit_code, result.output)
    # CliRunner catches what escapes the command: anything but SystemExit would have been a traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    text = result.output
    assert "Traceback" not in text, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, text
    for name in named:
        assert name in text, (name, text)
    return text
