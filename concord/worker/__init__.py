"""The worker's wiring: `create_app`, the flow's shared effects, health, metrics, narration
and the playbooks in force.
"""
