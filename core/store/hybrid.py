"""How the two halves of hybrid search are combined, the same for every store."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from core.text import content_words, stem

Key = tuple[str, int]  # (job_id, segment index)
KEYWORD_WEIGHT = 0.2  # added to the cosine similarity of a segment holding every word of the query
_search_pools: dict[int, ThreadPoolExecutor] = {}


def search_threads() -> ThreadPoolExecutor:
    """Threads kept for the halves of a search that run beside each other (the query's embedding, the keyword
    half); kept, so each keeps its database connection (and SQLite's page cache) warm between searches, and no
    search pays for starting a thread. Threads start only when no kept one is free, so searches at once (pages,
    the HTTP API) do not queue. One pool per process: a forked child gets the parent's pool without its threads."""
    pool = _search_pools.get(os.getpid())
    if pool is None:
        pool = _search_pools[os.getpid()] = ThreadPoolExecutor(max_workers=8, thread_name_prefix="search")
    return pool


def fuse(by_meaning: list[tuple[Key, float]], keyword_rows: list[tuple[str, int, str]], terms: list[str],
         similarity_of: Callable[[list[Key]], dict[Key, float]], limit: int) -> list[tuple[str, int, float, bool]]:
    """Meaning ranks first; a segment that also contains the query's words gains in proportion to the
    share of them it holds: the one rare name of a one-word query counts fully, one common word out of
    five barely. Returns (job_id, segment index, cosine similarity, keyword match), best first."""
    similarity = dict(by_meaning)
    missing = [(job_id, idx) for job_id, idx, _ in keyword_rows if (job_id, idx) not in similarity]
    if missing:
        similarity.update(similarity_of(missing))
    score = dict(similarity)
    keyword_hits: set[Key] = set()
    query_stems = {stem(term) for term in terms}
    for job_id, idx, text in keyword_rows:
        key = (job_id, idx)
        if key not in similarity or not query_stems:
            continue
        coverage = len(query_stems & {stem(word) for word in content_words(text)}) / len(query_stems)
        # a moment can match in both its languages: the better of the two counts
        score[key] = max(score[key], similarity[key] + KEYWORD_WEIGHT * coverage)
        keyword_hits.add(key)
    best = sorted(score, key=lambda key: -score[key])[:limit]
    return [(key[0], key[1], float(similarity[key]), key in keyword_hits) for key in best]
