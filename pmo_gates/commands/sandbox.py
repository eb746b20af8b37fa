"""``pmo-gates sandbox``: serve a snapshot as a Jira-compatible server in the foreground."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("sandbox")(sandbox)


def sandbox(
    seed: Annotated[
        Path | None, typer.Option("--seed", help="snapshot file to serve (default: the bundled sample portfolio)")
    ] = None,
    port: Annotated[int, typer.Option("--port", help="port on 127.0.0.1 (0 picks a free one)")] = 2990,
    flavour: Annotated[str, typer.Option("--flavour", help="cloud or dc")] = "cloud",
    user: Annotated[str | None, typer.Option("--user", help="require Basic auth with this e-mail / user")] = None,
    token_env: Annotated[
        str | None, typer.Option("--token-env", help="environment variable holding the required API token")
    ] = None,
    validate: Annotated[
        bool, typer.Option("--validate/--no-validate", help="check every exchange against the Jira OpenAPI spec")
    ] = False,
    index_lag: Annotated[
        float,
        typer.Option(
            "--index-lag", min=0.0, max=600.0, help="seconds before a write shows in JQL search, as on Jira Cloud"
        ),
    ] = 0.0,
) -> None:
    """Serve the sandbox on 127.0.0.1 until Ctrl-C."""
    from pmo_gates.sandbox import SandboxServer, SnapshotError, sample_portfolio_path

    if flavour not in ("cloud", "dc"):
        raise typer.BadParameter("must be 'cloud' or 'dc'", param_hint="--flavour")
    auth = None
    if user or token_env:
        if not (user and token_env):
            raise typer.BadParameter("--user and --token-env go together", param_hint="--user/--token-env")
        token = os.environ.get(token_env)
        if not token:
            raise typer.BadParameter(f"environment variable {token_env} is not set or empty", param_hint="--token-env")
        auth = (user, token)
    contract = None
    if validate:
        from pmo_gates.sandbox.contract import JiraContract, SpecError

        try:
            contract = JiraContract.load()
        except SpecError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
    path = seed or sample_portfolio_path()
    try:
        server = SandboxServer(path, flavour=flavour, port=port, auth=auth, validate=contract, index_lag=index_lag)
        server.start()  # binds the port: a busy one fails here
    except SnapshotError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(
            f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}; choose another --port (0 picks a free one)",
            err=True,
        )
        raise typer.Exit(2) from None
    issues, projects = len(server.state), len(server.state.projects())
    typer.echo(f"Jira sandbox ({flavour}) serving {path.name}: {projects} projects, {issues} issues")
    typer.echo(server.url, err=False)
    typer.echo("Auth: " + (f"Basic {user}:<${token_env}> or Bearer <${token_env}>" if auth else "none"), err=True)
    typer.echo("Press Ctrl-C to stop.", err=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        typer.echo("stopped", err=True)
    if contract is not None and server.contract_violations:
        typer.echo(f"{len(server.contract_violations)} contract violations:", err=True)
        for violation in server.contract_violations:
            typer.echo(f"  {violation}", err=True)
