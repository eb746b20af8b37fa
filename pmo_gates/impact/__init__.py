"""``pmo-gates rules impact``: what a rule change would change, on today's data, before it is merged."""
