"""What the hosted engines cost, in US dollars. One table: update it when prices change."""

from __future__ import annotations

#: Per minute of audio for speech-to-text, per million tokens for text models.
PRICES: dict[str, dict[str, float]] = {
    "whisper-1": {"audio_minute": 0.006},
    "gpt-4o-transcribe": {"audio_minute": 0.006},
    "gpt-4o-transcribe-diarize": {"audio_minute": 0.006},
    "gpt-4o-mini-transcribe": {"audio_minute": 0.003},
    "gpt-4.1-mini": {"input_million": 0.40, "output_million": 1.60},
    "gpt-4.1-nano": {"input_million": 0.10, "output_million": 0.40},
    "gpt-4.1": {"input_million": 2.00, "output_million": 8.00},
    "text-embedding-3-small": {"input_million": 0.02},
    "text-embedding-3-large": {"input_million": 0.13},
}


def cost(model: str, *, audio_seconds: float = 0.0, input_tokens: int = 0, output_tokens: int = 0) -> float | None:
    """Estimated cost of one use, or None for a model with no known price (e.g. a self-hosted server)."""
    price = PRICES.get(model)
    if price is None:
        return None
    return (audio_seconds / 60 * price.get("audio_minute", 0.0)
            + input_tokens / 1e6 * price.get("input_million", 0.0)
            + output_tokens / 1e6 * price.get("output_million", 0.0))
