"""Where a secret is kept, never the secret itself: an environment variable or a file.

A Teams Workflows URL, a Mattermost webhook or a webhook subscriber's signing secret is a
credential: whoever has it can post to the channel or forge events. The directory (a file
people review and version) and the records on Kafka carry only a `SecretRef` to it; a
notifier resolves it when it sends.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator

from concord.common.types import Strict


class SecretRef(Strict):
    """`{env: NAME}` or `{file: /run/secrets/name}`: exactly one."""

    env: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="an environment variable's name"
    )
    file: str | None = Field(None, min_length=1, description="a file holding it (first line)")

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of `env` or `file`, never the secret itself")
        return self

    def __str__(self) -> str:
        return f"env:{self.env}" if self.env is not None else f"file:{self.file}"

    def resolve(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The secret, or None when the variable is unset or the file cannot be read."""
        if self.env is not None:
            value = (os.environ if environ is None else environ).get(self.env, "")
            return value.strip() or None
        try:
            lines = Path(str(self.file)).read_text(encoding="utf-8").splitlines()
        except OSError:
            return None
        return lines[0].strip() or None if lines else None
