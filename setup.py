"""Maps the top-level user-facing folders into the ``pmo_gates`` namespace (see pyproject's package-dir)."""

from setuptools import find_packages, setup

ROOTS = {
    "pmo_gates": "pmo_gates",
    "pmo_gates.connectors": "connectors",
    "pmo_gates.rules": "rules",
    "pmo_gates.flows": "flows",
}

packages: list[str] = []
for package, folder in ROOTS.items():
    packages.append(package)
    packages += [f"{package}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=ROOTS)
