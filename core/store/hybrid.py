"""How the two halves of hybrid search are combined, the same for every store."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from core.text import content_words, stem

Key = tuple[str, int]  # (job_id, segment index)
KEYWORD_WEIGHT = 0.2  # added to the cosine similarity of a segment holding every word of the query
# A word held by more than this many of the segments searched does not single moments out: hybrid search leaves it
# to meaning (whose finds still gain for holding it) instead of ranking every segment that holds it, which at 100,000
# segments cost more than the rest of the search. Postgres' keyword_segments uses the same number.
COMMON_WORD_SEGMENTS = 1000
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


def fuse(by_meaning: list[tuple[Key, float]], texts: dict[Key, list[str]], keyword_rows: list[tuple[str, int, str]],
         terms: list[str], similarity_of: Callable[[list[Key]], dict[Key, float]],
         limit: int) -> list[tuple[str, int, float, bool]]:
    """Meaning ranks first; a segment that also contains the query's words gains in proportion to the
    share of them it holds: the one rare name of a one-word query counts fully, one common word out of
    five barely. `texts` holds the words of the segments found by meaning (and their translation's), so each
    of them gains whether or not the keyword half reached it among thousands holding a common word; the
    keyword half adds the segments holding the words that meaning missed.
    Returns (job_id, segment index, cosine similarity, keyword match), best first."""
    similarity = dict(by_meaning)
    missing = [(job_id, idx) for job_id, idx, _ in keyword_rows if (job_id, idx) not in similarity]
    if missing:
        similarity.update(similarity_of(missing))
    query_stems = {stem(term) for term in terms}
    coverage: dict[Key, float] = {}

    def holds(key: Key, text: str) -> None:
        # a moment can match in both its languages: the better of the two counts
        share = len(query_stems & {stem(word) for word in content_words(text)}) / len(query_stems)
        coverage[key] = max(coverage.get(key, 0.0), share)

    keyword_hits: set[Key] = set()
    if query_stems:
        for key, said in texts.items():
            for text in said:
                holds(key, text)
        keyword_hits = {key for key, share in coverage.items() if share > 0}
        for job_id, idx, text in keyword_rows:
            if (job_id, idx) in similarity:
                holds((job_id, idx), text)
                keyword_hits.add((job_id, idx))
    score = {key: value + KEYWORD_WEIGHT * coverage.get(key, 0.0) for key, value in similarity.items()}
    best = sorted(score, key=lambda key: -score[key])[:limit]
    return [(key[0], key[1], float(similarity[key]), key in keyword_hits) for key in best]
