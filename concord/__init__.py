"""Concord: inter-agency conflict-response coordination, an event-driven alert bus for cities."""
