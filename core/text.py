"""Words: how text is split into words, stemmed, and stripped of stop words, the same for analysis,
keyword search and highlighting."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from functools import lru_cache

WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    from sumy.utils import get_stop_words  # loaded on first use: sumy is large

    return frozenset(get_stop_words("english"))


@lru_cache(maxsize=1)
def stemmer() -> Callable[[str], str]:
    """Snowball's English stemmer (Porter2), callable from any thread: its stemmer object holds the word it is
    working on, so calls take turns."""
    import snowballstemmer

    english, turns = snowballstemmer.stemmer("english"), threading.Lock()

    def stem_word(word: str) -> str:
        with turns:
            return english.stemWord(word)

    return stem_word


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """Snowball is slow and speech repeats its words: each is stemmed once per process (search fuses
    thousands of candidate segments per query)."""
    return stemmer()(word.lower())


def content_words(text: str) -> list[str]:
    """The words of a text that carry meaning (no stop words), lower-cased, in order, once each."""
    seen: dict[str, None] = {}
    for word in WORD.findall(text.lower()):
        if len(word) > 1 and word not in stop_words():
            seen.setdefault(word)
    return list(seen)
