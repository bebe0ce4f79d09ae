"""Vectors as the library keeps them: unit length, float32, one per segment, one per part (chapter) of a long video,
and one per video."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future

import numpy as np

#: A query's vector, or its Future: a store may prepare the rest of a search while it is being computed.
QueryVector = np.ndarray | Future

VIDEO_VECTOR = -1  # segment_idx of the whole video's vector
FIRST_PART = -2  # segment_idx of the first part's vector; the k-th part's is FIRST_PART - k


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (float32), so a dot product is the cosine similarity."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.clip(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12, None)


def with_video_vector(vectors: np.ndarray, parts: Sequence[tuple[int, int]] = ()) -> list[tuple[int, np.ndarray]]:
    """(segment_idx, vector) rows to store: one per segment, one per part (the segments [first, stop) of a chapter:
    their normalised mean), then the video's (the normalised mean of all), last."""
    vectors = np.asarray(vectors, dtype=np.float32)
    part_rows = [(FIRST_PART - k, normalise_rows(vectors[first:stop].mean(axis=0)))
                 for k, (first, stop) in enumerate(parts) if stop > first]
    return [*enumerate(vectors), *part_rows, (VIDEO_VECTOR, normalise_rows(vectors.mean(axis=0)))]


def part_number(segment_idx: int) -> int:
    return FIRST_PART - segment_idx


def query_vector(query: QueryVector) -> np.ndarray:
    return np.asarray(query.result() if isinstance(query, Future) else query, dtype=np.float32)
