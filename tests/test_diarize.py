"""Grouping voice prints into speakers, on prints made up for the purpose (the whole path runs on generated
conversations in tests/test_speakers.py)."""

import numpy as np

from core.providers import diarize


def voices(counts: list[int], spread: float = 0.15, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around one centre per voice, `counts[i]` of voice i, shuffled; and each one's voice."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(counts), 256))
    truth = np.repeat(np.arange(len(counts)), counts)
    prints = centres[truth] + spread * np.sqrt(256) / 16 * rng.standard_normal((len(truth), 256))
    order = rng.permutation(len(truth))
    prints = prints[order] / np.linalg.norm(prints[order], axis=1, keepdims=True)
    return prints.astype(np.float32), truth[order]


def same_grouping(found: np.ndarray, truth: np.ndarray) -> bool:
    pairs = {(int(a), int(b)) for a, b in zip(found, truth, strict=True)}
    return len(pairs) == len(set(truth.tolist())) == len(set(found.tolist()))


def test_the_number_of_voices_is_found_not_asked():
    for counts in ([300], [200, 120], [150, 90, 40]):
        prints, truth = voices(counts)
        assert same_grouping(diarize.group_voices(prints, 8), truth)


def test_a_long_talks_windows_are_grouped_from_a_spread_sample_and_each_joins_its_voice():
    prints, truth = voices([4000, 2500, 700])
    assert len(prints) > diarize.MAX_GROUPED
    assert same_grouping(diarize.group_voices(prints, 8), truth)


def test_no_more_voices_than_allowed():
    prints, truth = voices([100, 100, 100, 100])
    found = diarize.group_voices(prints, 2)
    assert len(set(found.tolist())) == 2
