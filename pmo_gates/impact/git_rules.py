"""The rule files as they were at a git ref: ``git archive <ref> -- <path>`` of each configured rule path,
unpacked into a temporary folder, so the base rule set loads exactly like the current one."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path


class ImpactError(Exception):
    """A base or head rule set that cannot be read; the message names the ref, path or folder."""


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, check=False, timeout=60)
    except FileNotFoundError:
        raise ImpactError("git is not installed here: compare rule folders with --base-dir instead") from None


def paths_at_ref(paths: list[Path], ref: str, into: Path) -> list[Path]:
    """``paths`` (files or folders inside a git work tree) as of ``ref``, unpacked under ``into``.

    A path that did not exist at ``ref`` is left out (the change adds it). Raises ImpactError when a path
    is not in a git repository or the ref is unknown.
    """
    mapped: list[Path] = []
    for index, path in enumerate(paths):
        path = path.resolve()
        folder = path if path.is_dir() else path.parent
        top = _git(folder, "rev-parse", "--show-toplevel")
        if top.returncode != 0:
            raise ImpactError(f"{path}: not in a git repository; compare folders with --base-dir instead")
        root = Path(top.stdout.decode().strip())
        if _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
            raise ImpactError(f"--base {ref}: no such commit, branch or tag in {root}")
        relative = path.relative_to(root).as_posix()
        archive = _git(root, "archive", "--format=tar", ref, "--", relative)
        if archive.returncode != 0:
            continue  # not at the base: a file or folder this change adds
        target = into / str(index)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(target, filter="data")
        mapped.append(target / relative)
    return mapped
