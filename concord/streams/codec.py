"""A Faust codec per pydantic model, so agents receive models and send JSON."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from faust.serializers.codecs import Codec
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


class PydanticCodec(Codec, Generic[M]):
    """Encode a model as compact JSON; decode and validate bytes into the model."""

    def __init__(self, model: type[M], **kwargs: Any) -> None:
        self.model = model
        super().__init__(model=model, **kwargs)

    def _dumps(self, obj: Any) -> bytes:
        if isinstance(obj, BaseModel):
            return obj.model_dump_json().encode()
        return self.model.model_validate(obj).model_dump_json().encode()

    def _loads(self, s: bytes) -> M:
        return self.model.model_validate_json(s)


def dump(model: BaseModel) -> dict[str, Any]:
    """A model as a JSON-able dict, for table values."""
    return model.model_dump(mode="json")
