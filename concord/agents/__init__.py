"""Faust agents: thin wiring that moves events between topics and tables and calls the
pure functions of `concord.core`."""
