"""Vectors as the library keeps them: unit length, float32, one per segment plus one per video."""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np

#: A query's vector, or its Future: a store may prepare the rest of a search while it is being computed.
QueryVector = np.ndarray | Future

VIDEO_VECTOR = -1  # segment_idx of the whole video's vector


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (float32), so a dot product is the cosine similarity."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.clip(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12, None)


def with_video_vector(vectors: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(segment_idx, vector) rows to store: one per segment, plus the video's (their normalised mean)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return [*enumerate(vectors), (VIDEO_VECTOR, normalise_rows(vectors.mean(axis=0)))]


def query_vector(query: QueryVector) -> np.ndarray:
    return np.asarray(query.result() if isinstance(query, Future) else query, dtype=np.float32)
