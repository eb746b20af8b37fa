"""Atlassian's Jira Cloud OpenAPI description, cut to what pmo-gates uses (see NOTICE)."""
