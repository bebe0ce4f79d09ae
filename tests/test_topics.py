"""A video's topics are what a person would write: noun phrases naming its subject, lemmatised, one per meaning."""

from __future__ import annotations

import io
import pickle

import pytest

from core.config import Settings
from core.models import Segment, Transcript
from core.providers.analyze import LocalAnalyzer
from core.providers.embed import get_embedder
from core.providers.topics import _TaggerUnpickler, noun_phrases

FOOTBALL = ("Hi everyone and welcome back to the channel. So the derby ended in a draw, two all, after two late goals "
            "in the second half. Honestly the home side had the better of the first half, but their striker missed a "
            "penalty just before the break. The manager was furious with the referee. Then in the last ten minutes "
            "both late goals came from corners. The goalkeeper could do nothing about either of them.")
GARDEN = ("Okay so this is my little roof garden. Up here the pots dry out really fast, so the water tank collects "
          "rain from the roof. The tomato plants need water every single morning. I grow basil next to the tomatoes, "
          "because basil keeps the pests away.")


@pytest.fixture(scope="module")
def analyzer() -> LocalAnalyzer:
    return LocalAnalyzer(get_embedder(Settings()))


def analysed_topics(analyzer: LocalAnalyzer, text: str, language: str = "en") -> list[str]:
    transcript = Transcript(text=text, language=language, segments=[Segment(start=0, end=30, text=text)])
    return analyzer.analyze(transcript, title=None, description=None).topics


def test_topics_are_noun_phrases_naming_the_subject(analyzer):
    found = analysed_topics(analyzer, FOOTBALL)
    assert {"derby", "late goal", "penalty", "striker"} <= set(found)
    # Fragments YAKE gave for this talk: a clause, a vague word, a filler.
    assert not {"derby ended", "half", "back", "honestly the home", "striker missed"} & set(found)
    assert len(found) <= 8


def test_topics_are_lemmatised_and_one_per_meaning(analyzer):
    found = analysed_topics(analyzer, GARDEN)
    assert "tomato plant" in found and "tomato plants" not in found
    lowered = [topic.lower() for topic in found]
    assert len(lowered) == len(set(lowered))
    # A phrase and a word inside it are one topic: "tomato plant" stands for "plant".
    assert "plant" not in lowered
    words = [set(topic.split()) for topic in lowered]
    assert not any(a < b for a in words for b in words)


def test_opinions_and_amounts_are_not_part_of_a_topic():
    found = noun_phrases("The defenders made awful mistakes. Both teams scored thirty goals.", stop=set(),
                         opinions={"awful"})
    assert ("mistake",) in found and ("awful", "mistake") not in found
    assert ("goal",) in found and not any("thirty" in key for key in found)


def test_a_name_keeps_its_capitals_and_a_sentence_opening_loses_them():
    found = noun_phrases("Gravity pulls the gas together. We flew to Lisbon and watched NASA launches.", stop=set())
    shown = {phrase.shown for phrase in found.values()}
    assert "gravity" in shown and "Lisbon" in shown and "NASA launch" in shown


def test_other_languages_keep_key_phrases(analyzer):
    found = analysed_topics(analyzer, "El partido terminó en empate después de dos goles en la segunda parte. "
                                      "El portero no pudo hacer nada con los goles.", language="es")
    assert found and all(topic == topic.strip() for topic in found)


def test_a_tagger_file_that_would_run_code_is_refused():
    class Sneaky:
        def __reduce__(self):
            return (print, ("run",))

    with pytest.raises(pickle.UnpicklingError, match="not part of a tagger model"):
        _TaggerUnpickler(io.BytesIO(pickle.dumps(({}, {}, Sneaky())))).load()
