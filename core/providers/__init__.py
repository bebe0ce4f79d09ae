"""Engines that turn audio into text, text into analysis, and text into vectors.

Each is a small Protocol with one embedded (offline) implementation; hosted ones plug in beside them.
"""

from __future__ import annotations


class EngineError(Exception):
    """An engine failed in a way the user should read about (e.g. no speech in the audio)."""
