"""The PMO's playbooks (YAML): delay root causes and remedies (rca.yaml), priority scoring (priority.yaml).

A package only so the YAML files ship with pmo-gates; nothing here is imported.
"""
