"""Themes: the library's videos grouped by what they are about, from the vectors already stored, and named from their
words with class-based TF-IDF (the words frequent in a theme's videos and rare in the others', as BERTopic labels its
topics). Grouped again as the library grows, by a worker, never by a page; a theme keeps its id and its label while
most of its videos stay together, and a label or a merge a person made is kept."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable

import numpy as np

from core.config import Settings
from core.models import Analysis, Job, Theme, ThemeView
from core.providers.hosted import theme_names
from core.providers.metering import meter
from core.providers.topics import noun_lemma
from core.store import Store

log = logging.getLogger(__name__)

#: Videos whose average cosine distance is below this share a theme (average linkage). Calibrated in
#: bench/themes.py on generated libraries of several subjects with overlapping words.
JOIN_DISTANCE = 0.46
#: A theme found again keeps its id and label when it shares at least this share of its videos (Jaccard).
KEEP_OVERLAP = 0.5
KEYWORDS = 8
LABEL_WORDS = 3
MAX_LABEL = 80


class ThemeRefused(ValueError):
    """A rename or merge that cannot be done as asked: an empty or taken name, a theme merged with itself."""


_WORD = re.compile(r"\b[^\W\d_][^\W\d_'-]+\b")
_SENTENCE_BREAK = re.compile(r"[.!?;:,()\n]+")


def group(vectors: np.ndarray) -> np.ndarray:
    """A theme number for each row of unit vectors."""
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                   distance_threshold=JOIN_DISTANCE).fit_predict(vectors)


def keywords(groups: list[list[str]], count: int = KEYWORDS) -> list[list[str]]:
    """For each theme (the texts of its videos), the words and two-word phrases that set it apart from the others
    (c-TF-IDF, counting the videos that say a phrase rather than how often: what most of a theme's videos say names
    it better than what one says many times): a phrase's share of the theme's counts times log(1 + average counts
    per theme / the phrase's count everywhere). Phrases never cross a sentence; one found in more than half of
    several themes (in every theme, for two or three) tells none apart; a word already inside a chosen phrase is not
    listed again."""
    from sklearn.feature_extraction.text import CountVectorizer

    texts = [text for members in groups for text in members]
    try:
        counts = CountVectorizer(analyzer=_phrases, binary=True).fit(texts)
    except ValueError:  # no words at all
        return [[] for _ in groups]
    per_video = counts.transform(texts).toarray().astype(float)
    bounds = np.cumsum([0, *(len(members) for members in groups)])
    matrix = np.vstack([per_video[start:stop].sum(axis=0) for start, stop in zip(bounds, bounds[1:], strict=False)])
    themes_saying = (matrix > 0).sum(axis=0)
    shared = themes_saying > (len(groups) / 2 if len(groups) >= 4 else len(groups) - 1)
    if len(groups) >= 2 and not shared.all():
        matrix[:, shared] = 0
    terms = counts.get_feature_names_out()
    frequency = matrix / np.clip(matrix.sum(axis=1, keepdims=True), 1, None)
    average = matrix.sum() / max(len(groups), 1)
    weights = frequency * np.log1p(average / np.clip(matrix.sum(axis=0), 1, None))
    found = []
    for row in weights:
        chosen: list[str] = []
        for index in np.argsort(-row, kind="stable"):
            if row[index] <= 0 or len(chosen) == count:
                break
            term = str(terms[index])
            words = set(term.split())
            if any(words <= set(other.split()) or set(other.split()) <= words for other in chosen):
                continue  # "tomato" beside "tomato plants", or the other way round
            chosen.append(term)
        found.append(chosen)
    return found


def _phrases(text: str) -> list[str]:
    """The words of a text without stop words (nouns in the singular: "rates" is "rate"), and each two neighbours
    within a sentence."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    found = []
    for sentence in _SENTENCE_BREAK.split(text.lower()):
        words = [noun_lemma(word) for word in _WORD.findall(sentence) if word not in ENGLISH_STOP_WORDS]
        found += words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    return found


def label_of(words: list[str]) -> str:
    return ", ".join(words[:LABEL_WORDS]) or "unnamed"


def regroup(job_ids: list[str], vectors: np.ndarray, texts: list[str], previous: list[Theme]) -> list[Theme]:
    """The themes of these items (a whole video, or a part of a long one: `job_ids[i]` is the video of row i and
    `texts[i]` its words), the ids, labels and merges of `previous` kept where a theme is found again. A video whose
    parts fall in several themes is in each."""
    numbers = group(vectors)
    members = [np.flatnonzero(numbers == number) for number in sorted(set(numbers.tolist()))]
    groups = [sorted({job_ids[i] for i in rows}) for rows in members]
    words = keywords([[texts[i] for i in rows] for rows in members])
    # Greedily, the largest overlaps first: each old theme names at most one new group.
    overlaps = sorted(((len(set(videos) & set(old.job_ids)) / len(set(videos) | set(old.job_ids)), g, o)
                       for g, videos in enumerate(groups) for o, old in enumerate(previous) if old.job_ids),
                      reverse=True)
    kept: dict[int, Theme] = {}
    used: set[int] = set()
    for share, g, o in overlaps:
        if share >= KEEP_OVERLAP and g not in kept and o not in used:
            kept[g] = previous[o]
            used.add(o)
    themes = []
    for g, videos in enumerate(groups):
        old = kept.get(g)
        themes.append(Theme(id=old.id if old else uuid.uuid4().hex[:12], label=old.label if old else label_of(words[g]),
                            keywords=words[g], job_ids=videos, named=bool(old and old.named),
                            merged_into=old.merged_into if old else None))
    # A merge target that was not found again stays, empty, so what was merged into it still shows under it.
    present = {theme.id for theme in themes}
    for old in previous:
        if old.id not in present and any(theme.merged_into == old.id for theme in themes):
            themes.append(old.model_copy(update={"job_ids": []}))
    return themes


#: Names themes from (keywords, videos' texts) pairs: a hosted model's names, None where it gave none.
Namer = Callable[[list[tuple[list[str], list[str]]]], list[str | None]]


def hosted_namer(settings: Settings) -> Namer | None:
    """The analysis model naming new themes, where analysis is hosted; else None (their c-TF-IDF words name them)."""
    if not settings.uses_openai("analysis"):
        return None
    return lambda themes: theme_names(settings, themes)


def refresh(store: Store, embedding_model: str, namer: Namer | None = None) -> list[Theme]:
    """Group the library's completed videos again (a worker's task) and keep the result; returns the themes. A long
    video whose chapters are about different subjects is grouped by its chapters (core.library.chapters.chapter_parts),
    every other video as a whole. With a `namer`, themes found for the first time are named by it (its cost in the
    library's ledger); a theme found again keeps its name."""
    job_ids, vectors = store.video_vectors(embedding_model)
    previous = store.get_themes()
    if not job_ids:
        store.save_themes([])
        return []
    part_keys, part_vectors = store.part_vectors(embedding_model)
    jobs = store.get_jobs(job_ids)
    analyses = store.get_analyses(job_ids)
    in_parts = {job_id for job_id, _part in part_keys} & set(job_ids)
    video_texts = {job_id: _video_text(jobs.get(job_id), analyses.get(job_id)) for job_id in job_ids}
    items, rows, texts = [], [], []
    for job_id, vector in zip(job_ids, vectors, strict=True):
        if job_id not in in_parts:
            items.append(job_id)
            rows.append(vector)
            texts.append(video_texts[job_id])
    for (job_id, part), vector in zip(part_keys, part_vectors, strict=True):
        if job_id in in_parts:
            chapters = jobs[job_id].chapters if job_id in jobs else []
            chapter = chapters[part] if part < len(chapters) else None
            items.append(job_id)
            rows.append(vector)
            texts.append("\n".join(filter(None, [chapter.title, chapter.summary])) if chapter
                         else video_texts[job_id])
    themes = regroup(items, np.vstack(rows), texts, previous)
    if namer:
        themes = _named(store, themes, {theme.id for theme in previous}, namer, video_texts)
    store.save_themes(themes)
    return themes


def _named(store: Store, themes: list[Theme], known: set[str], namer: Namer, texts: dict[str, str]) -> list[Theme]:
    """The themes with those new since the last grouping named by `namer`; as they were if it fails (said in the
    log: the words that set them apart name them meanwhile, and a person can rename them)."""
    fresh = [theme for theme in themes if theme.id not in known and theme.job_ids and not theme.named]
    if not fresh:
        return themes
    try:
        with meter() as used:
            names = namer([(theme.keywords, [texts.get(job_id, "") for job_id in theme.job_ids]) for theme in fresh])
    except Exception as exc:  # noqa: BLE001 - a theme without a hosted name is still a theme
        log.warning("the new themes could not be named by the hosted model: %s", exc)
        return themes
    for usage in used:
        store.add_library_usage(usage.model_copy(update={"stage": "themes"}))
    fresh_ids = {theme.id for theme in fresh}
    taken = {theme.label.casefold() for theme in themes if theme.id not in fresh_ids}
    labels = {}
    for theme, name in zip(fresh, names, strict=False):
        if name and name.casefold() not in taken:
            labels[theme.id] = name
            taken.add(name.casefold())
    return [theme.model_copy(update={"label": labels[theme.id]}) if theme.id in labels else theme for theme in themes]


def _video_text(job: Job | None, analysis: Analysis | None) -> str:
    parts = [job.title or "" if job else ""]
    if analysis:
        parts += [analysis.summary, *analysis.topics]
    return "\n".join(parts)


def shown_as(themes: list[Theme]) -> dict[str, Theme]:
    """Each theme id's theme as shown: itself, or the one it was merged into (following merges of merges)."""
    by_id = {theme.id: theme for theme in themes}
    found = {}
    for theme in themes:
        target, seen = theme, set()
        while target.merged_into in by_id and target.id not in seen:
            seen.add(target.id)
            target = by_id[target.merged_into]
        found[theme.id] = target
    return found


def views(themes: list[Theme]) -> list[ThemeView]:
    """The themes as shown: merged ones inside their target, those without videos left out, the largest first."""
    members: dict[str, set[str]] = {}
    by_id = {theme.id: theme for theme in themes}
    for theme_id, target in shown_as(themes).items():
        members.setdefault(target.id, set()).update(by_id[theme_id].job_ids)
    shown = [ThemeView(id=theme_id, label=by_id[theme_id].label, keywords=by_id[theme_id].keywords,
                       videos=len(jobs), job_ids=sorted(jobs)) for theme_id, jobs in members.items() if jobs]
    return sorted(shown, key=lambda view: (-view.videos, view.label.lower()))


def renamed(themes: list[Theme], theme_id: str, label: str) -> list[Theme]:
    """The themes with one given a person's label; ThemeRefused for an empty or a taken label."""
    label = " ".join(label.split())
    if not label:
        raise ThemeRefused("A theme's name cannot be empty.")
    if len(label) > MAX_LABEL:
        raise ThemeRefused(f"A theme's name may be up to {MAX_LABEL} characters.")
    target = _find(themes, theme_id)
    taken = {view.label.casefold(): view.id for view in views(themes)}
    if taken.get(label.casefold(), target.id) != target.id:
        raise ThemeRefused(f"Another theme is already called “{label}”: merge the two instead, or choose another name.")
    return [theme.model_copy(update={"label": label, "named": True}) if theme.id == target.id else theme
            for theme in themes]


def merged(themes: list[Theme], source_id: str, target_id: str) -> list[Theme]:
    """The themes with one shown inside another from now on; ThemeRefused for a merge of a theme with itself."""
    source, target = _find(themes, source_id), _find(themes, target_id)
    if source.id == target.id:
        raise ThemeRefused("A theme cannot be merged with itself.")
    if target.merged_into:
        raise ThemeRefused(f"“{target.label}” is itself merged into another theme: merge into that one.")
    return [theme.model_copy(update={"merged_into": target.id}) if theme.id == source.id or theme.merged_into ==
            source.id else theme for theme in themes]


def _find(themes: list[Theme], theme_id: str) -> Theme:
    for theme in themes:
        if theme.id == theme_id and not theme.merged_into:
            return theme
    raise LookupError(f"There is no theme {theme_id!r}.")

