"""Small helpers every layer shares: model base types, safe text, safe log lines and
templates.
"""
