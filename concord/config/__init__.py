"""Configuration: settings, the directory, YAML positions and the error a person can fix."""
