"""Library themes: how well the grouping finds the subjects of a generated library, whether the labels name them,
and how long grouping takes as the library grows.

    .venv/bin/python bench/themes.py [--distances 0.5,0.55,0.6,0.62,0.65,0.7]

1. Quality. A library of 8 subjects, 6 videos each, every video 4 sentences drawn from its subject's pool (real
   embeddings, all-MiniLM-L6-v2), with words shared across subjects on purpose (tomatoes in the garden and in the
   kitchen, a match's ball and a guitar's match of chords, flights and rockets). Printed for each join distance: the
   number of themes, adjusted Rand index and normalised mutual information against the subjects, and for the one in
   core.library.themes.JOIN_DISTANCE, each theme's label and whether it names its subject (two of its three terms
   hold a word of the subject's vocabulary, singular or plural). Each video is analysed as the pipeline analyses it
   (its summary and topics are part of what names a theme).
2. Time. Grouping (and labelling) 500 and 5,000 videos whose vectors gather around 200 subjects, in one run.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUBJECTS = {
    "gardening": (["garden", "tomato", "plants", "soil", "seed", "basil", "compost", "beds", "frost", "mulch"], [
        "Tomatoes need six hours of sunshine and deep pots.", "Water the plants early in the morning.",
        "I sow the seeds in trays before the last frost.", "Compost makes the soil rich and dark.",
        "Slugs love young lettuce leaves.", "Prune the tomato plants so the fruit ripens.",
        "Raised beds warm up faster in spring.", "Mulch keeps the weeds down and the soil moist.",
        "Basil grows well next to tomatoes in the garden.", "Harvest the beans while they are still thin."]),
    "cooking": (["recipe", "sauce", "tomato", "oven", "dough", "cheese", "eggs", "garlic", "onions", "soup", "pasta"], [
        "Simmer the tomato sauce for an hour with garlic.", "Preheat the oven to two hundred degrees.",
        "Knead the dough until it is smooth and elastic.", "Season the soup with salt and pepper.",
        "Chop the onions finely before frying them.", "This recipe needs fresh tomatoes and basil.",
        "Let the cake cool before you ice it.", "Whisk the eggs with sugar until pale.",
        "Roast the vegetables with olive oil.", "Serve the pasta with grated cheese."]),
    "football": (["match", "goal", "team", "league", "striker", "transfer", "referee", "coach", "fans", "cup"], [
        "The striker scored twice in the second half.", "The goalkeeper saved a penalty in the last minute.",
        "The team climbed to third place in the league.", "The coach changed the formation at half time.",
        "The fans sang through the whole match.", "A late goal won the derby.",
        "The referee showed two red cards.", "Their defence has not conceded in five games.",
        "The transfer window closes next week.", "The captain lifted the cup in front of the crowd."]),
    "guitar": (["guitar", "chords", "strings", "song", "practise", "capo", "fret", "strum", "tune"], [
        "Press the strings just behind the fret.", "Practise changing chords slowly every day.",
        "A capo lets you play the song in a higher key.", "Tune the guitar before you start.",
        "Strum down on every beat at first.", "Your fingertips will hurt for two weeks.",
        "Learn the minor chords after the major ones.", "Play along with the song at half speed.",
        "New strings sound bright for a few weeks.", "The chord shapes match across the neck."]),
    "space": (["rocket", "planet", "orbit", "telescope", "astronauts", "launch", "jupiter", "mars", "moon"], [
        "The rocket reached orbit nine minutes after launch.", "Astronomers found water vapour on a distant planet.",
        "The telescope captured light from the first galaxies.", "Astronauts spent six months on the station.",
        "The probe will fly past Jupiter next year.", "A reusable booster landed back on the pad.",
        "Mars has the tallest volcano in the solar system.", "The moon mission will carry four astronauts.",
        "Satellites in low orbit circle the earth every ninety minutes.", "The comet will be visible in spring."]),
    "travel": (["trip", "flight", "hotel", "city", "train", "beach", "ferry", "islands", "tickets", "tokyo"], [
        "Our flight to Tokyo left at midnight.", "The hotel was a short walk from the old town.",
        "We took the night train across the mountains.", "The rail pass paid for itself in two days.",
        "Book the museum tickets before the trip.", "The city is best seen on foot.",
        "We spent a week on the islands by ferry.", "Street food was cheap and delicious.",
        "Pack light if you change hotels often.", "The beach was quiet in the early morning."]),
    "finance": (["market", "shares", "investors", "interest", "budget", "funds", "rates", "bank", "debt"], [
        "Shares fell sharply after the earnings report.", "The central bank raised interest rates again.",
        "Investors moved money into government bonds.", "A budget helps you save every month.",
        "The market recovered its losses by Friday.", "Inflation slowed for the third month.",
        "Index funds keep costs low for investors.", "The company will buy back its own shares.",
        "Mortgage rates follow the interest rate.", "Pay off expensive debt before investing."]),
    "fitness": (["workout", "running", "muscles", "exercise", "training", "squats", "stretch", "warm"], [
        "Warm up for ten minutes before running.", "Squats train the biggest muscles in the body.",
        "Rest days let the muscles recover.", "Interval training improves your speed.",
        "Drink water during a long workout.", "Stretch after every exercise session.",
        "Start the training plan with short runs.", "Good shoes protect your knees when running.",
        "Lift lighter weights with better form.", "Sleep matters as much as the workout."]),
}
VIDEOS_PER_SUBJECT = 6
SENTENCES_PER_VIDEO = 4


def build_library(chooser: random.Random) -> dict[str, str]:
    """The generated videos in a fresh store; their job ids with their subjects."""
    from core.config import get_settings
    from core.providers.analyze import LocalAnalyzer
    from core.providers.embed import get_embedder
    from core.store import get_store
    from testkit.library import add_video

    store, embedder = get_store(), get_embedder(get_settings())
    analyzer = LocalAnalyzer(embedder)
    truth = {}
    for subject, (_, pool) in SUBJECTS.items():
        for number in range(VIDEOS_PER_SUBJECT):
            said = chooser.sample(pool, SENTENCES_PER_VIDEO)
            job_id = add_video(store, embedder, video_id=f"{subject}{number:04d}", title=f"Episode {number}",
                               sentences=said)
            # analysed as the pipeline analyses it: its summary and topics are what themes are named from
            found = analyzer.analyze(store.get_transcript(job_id), f"Episode {number}", None)
            store.save_analysis(job_id, found)
            truth[job_id] = subject
    return truth


def quality(distances: list[float]) -> None:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from core.config import get_settings
    from core.library import themes
    from core.providers.embed import embedding_model_name
    from core.providers.topics import noun_lemma
    from core.store import get_store

    truth = build_library(random.Random(11))
    store = get_store()
    model = embedding_model_name(get_settings())
    print(f"quality: {len(SUBJECTS)} subjects x {VIDEOS_PER_SUBJECT} videos, words shared across subjects")
    chosen = themes.JOIN_DISTANCE
    for distance in sorted(set(distances) | {chosen}):
        themes.JOIN_DISTANCE = distance
        store.save_themes([])
        found = themes.refresh(store, model)
        predicted = {job_id: theme.id for theme in found for job_id in theme.job_ids}
        ids = sorted(truth)
        ari = adjusted_rand_score([truth[i] for i in ids], [predicted[i] for i in ids])
        nmi = normalized_mutual_info_score([truth[i] for i in ids], [predicted[i] for i in ids])
        mark = "  <- JOIN_DISTANCE" if distance == chosen else ""
        print(f"  join distance {distance:.2f}: {len(found):3d} themes, ARI {ari:.3f}, NMI {nmi:.3f}{mark}")
    themes.JOIN_DISTANCE = chosen
    store.save_themes([])
    found = themes.refresh(store, model)
    named = 0
    for theme in sorted(found, key=lambda t: -len(t.job_ids)):
        subjects = [truth[job_id] for job_id in theme.job_ids]
        subject = max(set(subjects), key=subjects.count)
        expected = {noun_lemma(word) for word in SUBJECTS[subject][0]}
        names_it = sum(bool(expected & {noun_lemma(word) for word in term.split()})
                       for term in theme.label.split(", ")) >= 2
        named += names_it
        print(f"    {len(theme.job_ids):2d} videos, {subjects.count(subject)} of {subject}: “{theme.label}”"
              f"{'' if names_it else '  (does not name it)'}")
    print(f"  labels naming their theme's subject: {named}/{len(found)}")
    long_talks(truth, random.Random(12))


TALKS = 8
SENTENCES_PER_CHAPTER = 6
SECONDS_PER_SENTENCE = 12.0  # chapters of 72 s: long enough to be about something of their own


def long_talks(truth: dict[str, str], chooser: random.Random) -> None:
    """Long talks whose two chapters are about two subjects: grouped by their chapters, each should join both
    subjects' themes (and no other); grouped as a whole (one vector per talk), a talk can join one at most."""
    from core.config import get_settings
    from core.library import themes
    from core.library.indexing import embed_transcript, text_to_analyse
    from core.models import Chapter
    from core.providers.embed import get_embedder
    from core.store import get_store
    from testkit.library import add_video

    store, embedder = get_store(), get_embedder(get_settings())
    talks = {}
    for number in range(TALKS):
        first, second = chooser.sample(sorted(SUBJECTS), 2)
        said = [chooser.sample(SUBJECTS[subject][1], SENTENCES_PER_CHAPTER) for subject in (first, second)]
        middle = SENTENCES_PER_CHAPTER * SECONDS_PER_SENTENCE
        chapters = [Chapter(start=0, end=middle, title=f"Part {n + 1}", source="generated", summary=" ".join(part))
                    for n, part in enumerate(said)]
        chapters[1] = chapters[1].model_copy(update={"start": middle, "end": 2 * middle})
        job_id = add_video(store, embedder, video_id=f"talk{number:04d}", title=f"Long talk {number}",
                           sentences=said[0] + said[1], chapters=chapters, seconds_per_sentence=SECONDS_PER_SENTENCE)
        talks[job_id] = {first, second}
    model = embedder.model
    for grouped_by in ("chapters", "whole talks"):
        if grouped_by == "whole talks":  # the same talks with one vector each, as before chapters had theirs
            for job_id in talks:
                store.save_embeddings(job_id, model, embed_transcript(text_to_analyse(store, job_id), embedder))
        store.save_themes([])
        found = themes.refresh(store, model)
        subject_of = {}
        for theme in found:
            subjects = [truth[job_id] for job_id in theme.job_ids if job_id in truth]
            subject_of[theme.id] = max(set(subjects), key=subjects.count) if subjects else None
        both = one = 0
        for job_id, subjects in talks.items():
            joined = {subject_of[theme.id] for theme in found if job_id in theme.job_ids}
            both += joined == subjects
            one += len(joined) == 1 and joined <= subjects
        print(f"  {TALKS} long talks of two subjects, grouped by {grouped_by}: in both subjects' themes (and no "
              f"other) {both}/{TALKS}, in one of them only {one}/{TALKS}")


def timing(sizes: list[int]) -> None:
    from bench.search import unit_vectors
    from core.library import themes

    rng = np.random.default_rng(3)
    words = [w for _, (vocabulary, _) in SUBJECTS.items() for w in vocabulary]
    print("\ntime to group and label (vectors gathered around 200 subjects)")
    for size in sizes:
        around = unit_vectors(rng, 200, 384)  # 200 subjects, each video near one of them
        vectors = around[rng.integers(0, 200, size)] + rng.standard_normal((size, 384)) * 0.03
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        job_ids = [f"job{n:06d}" for n in range(size)]
        texts = [" ".join(rng.choice(words, 12)) for _ in job_ids]
        began = time.perf_counter()
        found = themes.regroup(job_ids, vectors, texts, [])
        grouped = time.perf_counter() - began
        began = time.perf_counter()
        again = themes.regroup(job_ids, vectors, texts, found)
        kept = sum(1 for old, new in zip(found, again, strict=True) if old.id == new.id)
        print(f"  {size:5,d} videos: {len(found):4d} themes in {grouped:5.2f} s; grouped again "
              f"{time.perf_counter() - began:5.2f} s, {kept}/{len(found)} themes kept their id")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--distances", default="0.5,0.55,0.6,0.65,0.7,0.75")
    parser.add_argument("--sizes", default="500,5000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATA_DIR"] = tmp
        quality([float(d) for d in args.distances.split(",")])
        timing([int(s) for s in args.sizes.split(",")])


if __name__ == "__main__":
    main()
