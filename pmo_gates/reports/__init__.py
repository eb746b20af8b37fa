"""Portfolio reports: priority ranking, resource map, cost, goals, quality, stale and redundant work, trends.

``build_reports`` (in :mod:`pmo_gates.reports.build`) computes every section from the store and writes
``index.html`` with its PNG charts and one CSV per table; see docs/rca.md, "Portfolio reports".
"""
