"""Where secrets are kept (concord.common.secrets)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from concord.common.secrets import SecretRef


def test_from_the_environment() -> None:
    ref = SecretRef(env="TEAMS_POLICE")
    assert ref.resolve({"TEAMS_POLICE": " https://x.example/hook \n"}) == "https://x.example/hook"
    assert ref.resolve({}) is None
    assert ref.resolve({"TEAMS_POLICE": "  "}) is None
    assert str(ref) == "env:TEAMS_POLICE"


def test_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "hook"
    path.write_text("https://x.example/hook\nignored\n")
    assert SecretRef(file=str(path)).resolve() == "https://x.example/hook"
    assert SecretRef(file=str(tmp_path / "missing")).resolve() is None


@pytest.mark.parametrize(
    "given",
    [{}, {"env": "A", "file": "/x"}, {"env": "not a name"}, {"url": "https://x.example"}],
)
def test_exactly_one_place_and_never_the_secret_itself(given: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        SecretRef.model_validate(given)
