"""Nearest segments by meaning on the embedded store: the exact matrix product, and for a large library an
approximate index (faiss's HNSW graph) beside it, so that a search visits a few thousand vectors instead of all.

The graph is built, and extended as videos arrive, in a background thread. Until it covers a row, that row is
searched exactly, so a new video is found at once; rows it holds that were deleted are passed over, and once a
tenth of it is such rows it is built again. Filtered searches measure every vector they keep (see GRAPH_ABOVE_SHARE)."""

from __future__ import annotations

import logging
import threading

import numpy as np

log = logging.getLogger(__name__)

GRAPH_NEIGHBOURS = 32  # HNSW's M: links per vector; recall over speed and memory
BUILD_EFFORT = 64  # HNSW's efConstruction
#: The graph answers only while it may return at least this share of what it holds. A filter keeps whole videos,
#: often whole subjects: a walk through the graph would reach the query's subject and find it filtered out (on the
#: library of tests/test_search_at_size.py a filter keeping a quarter shared 3 of the exact 10), so filtered
#: searches measure every vector they keep, as before, and the graph serves the unfiltered ones.
GRAPH_ABOVE_SHARE = 0.8
#: Below this share of the library kept by a filter, reading those rows alone beats the whole matrix product.
GATHER_BELOW_SHARE = 0.1
REBUILD_DEAD_SHARE = 0.1  # deleted rows still in the graph, as a share of it, before it is built again
EXTEND_EVERY_ROWS = 1  # rows the graph lacks before it is extended (a video is hundreds)


def _search_effort(depth: int) -> int:
    """HNSW's efSearch for `depth` results: measured on bench/search.py, recall@10 is >= 0.95 from 200 up."""
    return max(200, 4 * depth)


class Graph:
    """An HNSW graph over some of a library's vectors, each known by its row id in the embeddings table."""

    def __init__(self, dim: int):
        import faiss

        self.index = faiss.IndexHNSWFlat(dim, GRAPH_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = BUILD_EFFORT
        self.rowids = np.zeros(0, dtype=np.int64)  # graph id -> row id
        self.lock = threading.Lock()  # faiss does not search while it adds

    def add(self, rowids: np.ndarray, vectors: np.ndarray) -> None:
        with self.lock:
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))
            self.rowids = np.concatenate([self.rowids, rowids.astype(np.int64)])

    @property
    def size(self) -> int:
        return len(self.rowids)

    def search(self, query: np.ndarray, depth: int, allowed: np.ndarray | None) -> np.ndarray | None:
        """Graph ids of about the `depth` nearest allowed vectors (`allowed`: a mask over graph ids); None when
        the graph is busy being extended (the caller then searches exactly)."""
        import faiss

        if not self.lock.acquire(blocking=False):
            return None
        try:
            selector = None
            if allowed is not None:
                bits = np.packbits(allowed, bitorder="little")  # ids past its end are not members
                selector = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=_search_effort(depth))
            _, ids = self.index.search(query.reshape(1, -1).astype(np.float32), depth, params=params)
        finally:
            self.lock.release()
        ids = ids[0]
        return ids[ids >= 0]


class Covering:
    """How a graph's ids map to the rows of one matrix: which row each graph id is (-1: deleted since), and which
    rows the graph does not hold yet."""

    def __init__(self, graph: Graph, rowids: np.ndarray):
        self.graph, self.size = graph, graph.size
        graph_rowids = graph.rowids[:self.size]
        at = np.searchsorted(rowids, graph_rowids)
        found = at < len(rowids)
        found[found] = rowids[at[found]] == graph_rowids[found]
        self.row_of = np.where(found, at, -1)
        covered = np.zeros(len(rowids), dtype=bool)
        covered[self.row_of[found]] = True
        self.uncovered = np.flatnonzero(~covered)
        self.dead = int(self.size - found.sum())


class GraphSlot:
    """The graph of one library and model, shared by the matrices read of it one after another, and whether one of
    them is building or extending it (one at a time)."""

    def __init__(self):
        self.graph: Graph | None = None
        self.building = False
        self.lock = threading.Lock()


class NearestSearch:
    """The vectors of one model in one library: the matrix (rows ordered by row id), and the graph if the library
    is large enough to want one."""

    def __init__(self, matrix: np.ndarray, rowids: np.ndarray, slot: GraphSlot, min_rows: int):
        self.matrix, self.rowids, self.slot, self.min_rows = matrix, rowids, slot, min_rows
        self._covering: Covering | None = None
        self.maintain()

    def covering(self) -> Covering | None:
        graph = self.slot.graph
        if graph is None:
            return None
        covering = self._covering
        if covering is None or covering.graph is not graph or covering.size != graph.size:
            covering = self._covering = Covering(graph, self.rowids)
        return covering

    def coverage(self) -> tuple[int, int]:
        """(rows the graph answers for, rows in all)."""
        covering = self.covering()
        return (len(self.rowids) - len(covering.uncovered) if covering else 0), len(self.rowids)

    def maintain(self) -> None:
        """Start building or extending the graph in the background when the library needs it."""
        if not self.min_rows or len(self.rowids) < self.min_rows or self.slot.building:
            return
        covering = self.covering()
        rebuild = covering is None or covering.dead > REBUILD_DEAD_SHARE * max(1, covering.size)
        if not rebuild and len(covering.uncovered) < EXTEND_EVERY_ROWS:
            return
        with self.slot.lock:
            if self.slot.building:
                return
            self.slot.building = True
        threading.Thread(target=self._build, args=(rebuild,), name="nearest-graph", daemon=True).start()

    def _build(self, rebuild: bool) -> None:
        try:
            import faiss

            faiss.omp_set_num_threads(1)  # searches keep the other core
            if rebuild:
                graph = Graph(self.matrix.shape[1])
                graph.add(self.rowids, self.matrix)
                log.info("search index built over %d segments", graph.size)
                self.slot.graph = graph
            else:
                rows = self.covering().uncovered
                self.slot.graph.add(self.rowids[rows], self.matrix[rows])
        except Exception:  # noqa: BLE001 - exact search goes on answering
            log.exception("building the search index failed; searches stay exact")
        finally:
            self.slot.building = False

    def nearest(self, query: np.ndarray, depth: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, similarities) of the `depth` rows nearest the query among the allowed ones (`allowed`: a mask
        over rows, None for all), best first."""
        self.maintain()  # rows read after a rebuild began are taken in once it ends
        rows = self._through_graph(query, depth, allowed)
        if rows is None:  # exactly, over every row, or over the few a filter keeps
            if allowed is None:
                similarity = self.matrix @ query
            elif allowed.mean() < GATHER_BELOW_SHARE:
                rows = np.flatnonzero(allowed)
            else:
                similarity = np.where(allowed, self.matrix @ query, -np.inf)
        if rows is not None:
            similarity = self.matrix[rows] @ query
        depth = min(depth, len(similarity))
        if depth == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        best = np.argpartition(-similarity, depth - 1)[:depth]
        best = best[np.argsort(-similarity[best])]
        best = best[np.isfinite(similarity[best])]
        return (rows[best] if rows is not None else best), similarity[best]

    def _through_graph(self, query: np.ndarray, depth: int, allowed: np.ndarray | None) -> np.ndarray | None:
        """The rows to measure: the graph's nearest allowed rows and every allowed row it does not hold yet; None
        when the graph cannot answer (none yet, busy, or too much of it filtered out or deleted)."""
        covering = self.covering()
        if covering is None:
            return None
        wanted = covering.row_of >= 0
        if allowed is not None:
            wanted &= allowed[np.maximum(covering.row_of, 0)]
        if wanted.mean() < GRAPH_ABOVE_SHARE:
            return None
        ids = covering.graph.search(query, depth, None if wanted.all() else wanted)
        if ids is None:
            return None
        ids = ids[ids < covering.size]  # added since this matrix was read: among the uncovered rows below
        uncovered = covering.uncovered
        if allowed is not None:
            uncovered = uncovered[allowed[uncovered]]
        return np.unique(np.concatenate([covering.row_of[ids], uncovered]))
