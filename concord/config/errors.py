"""`ConfigError`: a mistake in the settings or the files, or a service that is not there.

Its message says what is wrong and what to do; the CLI prints it as one line
(`error: ...`) and exits with code 2.
"""

from __future__ import annotations


class ConfigError(Exception):
    """Something the person running Concord can fix (see the module)."""
