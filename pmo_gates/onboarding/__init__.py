"""From a fresh install to the PMO's own Jira: ``pmo-gates doctor`` (what is missing, and how to fix it)
and ``pmo-gates init`` (a starter config from what Jira has, and a plan that creates what it can)."""
