"""Delay root-cause analysis: detect delayed projects, rank their causes with evidence, prescribe remedies.

``analyse_portfolio`` (in :mod:`pmo_gates.rca.analyse`) and ``run_rca`` (in :mod:`pmo_gates.rca.run`)
are the entry points; the PMO's thresholds, cause settings and remedies live in
``rules/playbooks/rca.yaml``.
"""
