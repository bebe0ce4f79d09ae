"""Usage of hosted engines, collected per pipeline stage without threading it through every call."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from core.models import Usage
from core.pricing import cost

_current: ContextVar[list[Usage] | None] = ContextVar("usage_meter", default=None)


def record(engine: str, model: str, *, audio_seconds: float = 0.0, input_tokens: int = 0,
           output_tokens: int = 0) -> None:
    """Note one use; kept only while a meter is running (a search's query embedding is not a job's cost)."""
    records = _current.get()
    if records is not None:
        records.append(Usage(engine=engine, model=model, audio_seconds=audio_seconds, input_tokens=input_tokens,
                             output_tokens=output_tokens,
                             cost_usd=cost(model, audio_seconds=audio_seconds, input_tokens=input_tokens,
                                           output_tokens=output_tokens)))


@contextmanager
def meter():
    records: list[Usage] = []
    token = _current.set(records)
    try:
        yield records
    finally:
        _current.reset(token)
