"""Playbooks: the operators' YAML response plans, their schema, loader and matcher."""
