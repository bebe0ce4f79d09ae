"""The quality benchmark, with floors: the offline engines must keep understanding speech this well."""

import pytest

from testkit import quality


@pytest.fixture(scope="module")
def clips_site(tmp_path_factory):
    from testkit.media import serve

    folder = tmp_path_factory.mktemp("quality-site")
    videos = quality.make_clips(folder)
    server, url = serve(folder)
    yield videos, url
    server.shutdown()


def test_speech_to_text_word_error_rate(clips_site, empty_library):
    videos, _ = clips_site
    scores = quality.speech_to_text_scores(videos, empty_library.data_dir)
    print({name: f"WER {s['wer']:.1%}, {s['speed']:.1f}x real time" for name, s in scores.items()})
    assert scores["base"]["wer"] < 0.15


def test_search_sentiment_and_category(clips_site, empty_library):
    _, url = clips_site
    scores = quality.understanding_scores(url)
    print(scores)
    assert scores["hit_at_1"] >= 0.9
    assert scores["mrr"] >= 0.9
    for name, _rank, label, _score, expected, _category, _expected_category in scores["details"]:
        if expected != "neutral":
            assert label == expected, name  # the sign is right on every clearly positive or negative clip
    assert scores["category_agreement"] >= 0.75
