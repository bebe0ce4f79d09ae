"""Correcting a transcript: a line at a time, a misheard word everywhere at once, each correction kept and undoable.
Search, the analysis and the exports follow at once; two editors at once never overwrite each other silently. And
teaching the library its words: the names and words speech-to-text should expect in a collection's videos."""

from __future__ import annotations

from datetime import UTC, datetime

from core.config import Settings, get_settings
from core.jobs.submitting import require_job
from core.library import corrections
from core.library.indexing import embed_transcript, save_vectors, text_to_analyse
from core.models import MAX_SEGMENT_CHARS, Edit, SegmentChange, Transcript
from core.providers import prompts
from core.providers.analyze import get_analyzer
from core.providers.embed import get_embedder
from core.store import Store, get_store


class EditRefused(ValueError):
    """A correction that cannot be made as asked; the message says why, and nothing changed."""


class EditConflict(Exception):
    """The transcript was corrected by someone else since the revision the correction was made from, or is in no
    state to be corrected (none yet, nothing to take back)."""


def edit_history(job_id: str) -> list[Edit]:
    store = get_store()
    require_job(store, job_id)
    return store.get_edits(job_id)


def revision(job_id: str) -> int:
    """The transcript's latest revision: 0 before any correction."""
    edits = get_store().get_edits(job_id)
    return edits[-1].revision if edits else 0


def edit_segment(job_id: str, index: int, text: str, *, base_revision: int | None = None, by: str | None = None,
                 allow_empty: bool = False, settings: Settings | None = None) -> Edit:
    """Give one line of the transcript new text; its times stay."""
    store, transcript = _transcript(job_id)
    if not 0 <= index < len(transcript.segments):
        raise EditRefused(f"There is no line {index}: the transcript has lines 0 to {len(transcript.segments) - 1}.")
    text = " ".join((text or "").split())
    if not text and not allow_empty:
        raise EditRefused("The new text is empty. To remove a line's words, say so (--allow-empty).")
    if len(text) > MAX_SEGMENT_CHARS:
        raise EditRefused(f"A line may hold up to {MAX_SEGMENT_CHARS:,} characters; this text has {len(text):,}.")
    before = transcript.segments[index].text
    if text == before:
        raise EditRefused("The new text is the line's text already: nothing to correct.")
    return _apply(store, job_id, transcript, [SegmentChange(index=index, before=before, after=text)], "edit",
                  base_revision, by, settings)


def replace_words(job_id: str, old: str, new: str, *, apply: bool = False, base_revision: int | None = None,
                  by: str | None = None, settings: Settings | None = None) -> tuple[list[SegmentChange], Edit | None]:
    """The lines where `old` (whole words, any case) would become `new`; with `apply`, changed as one correction."""
    if not (old or "").strip():
        raise EditRefused("Say which word or phrase to replace.")
    if len(new or "") > MAX_SEGMENT_CHARS:
        raise EditRefused(f"The replacement may be up to {MAX_SEGMENT_CHARS:,} characters.")
    store, transcript = _transcript(job_id)
    changes = corrections.replacements(transcript, old, new or "")
    if not apply or not changes:
        return changes, None
    return changes, _apply(store, job_id, transcript, changes, "replace", base_revision, by, settings)


def undo(job_id: str, *, base_revision: int | None = None, by: str | None = None,
         settings: Settings | None = None) -> Edit:
    """Take back the latest correction not taken back yet."""
    store, transcript = _transcript(job_id)
    last = corrections.last_undoable(store.get_edits(job_id))
    if last is None:
        raise EditConflict("There is no correction to take back.")
    return _apply(store, job_id, transcript, corrections.taken_back(last), "undo", base_revision, by, settings,
                  undoes=last.revision)


def _transcript(job_id: str) -> tuple[Store, Transcript]:
    store = get_store(service_role=True)
    job = require_job(store, job_id)
    transcript = store.get_transcript(job_id)
    if transcript is None:
        raise EditConflict(f"“{job.title or job.video_id}” has no transcript yet ({job.status.label.lower()}).")
    return store, transcript


def _apply(store: Store, job_id: str, transcript: Transcript, changes: list[SegmentChange], kind: str,
           base_revision: int | None, by: str | None, settings: Settings | None, undoes: int | None = None) -> Edit:
    settings = settings or get_settings()
    edits = store.get_edits(job_id)
    latest = edits[-1].revision if edits else 0
    base = latest if base_revision is None else base_revision
    edit = Edit(revision=base + 1, at=datetime.now(UTC).isoformat(timespec="milliseconds"), by=by, kind=kind,
                changes=changes, undoes=undoes)
    if base != latest or not store.add_edit(job_id, edit, base):
        raise EditConflict(f"The transcript was corrected meanwhile (it is at revision {revision(job_id)}, this "
                           f"correction was made from revision {base}): nothing was changed. Reload it and correct "
                           "it again.")
    store.save_transcript(job_id, corrections.with_changes(transcript, changes))
    _follow(store, job_id, settings)
    return edit


def _follow(store: Store, job_id: str, settings: Settings) -> None:
    """Search (words at once, meaning as soon as the lines are embedded again) and the analysis follow a correction."""
    embedder = get_embedder(settings)
    text = text_to_analyse(store, job_id)
    save_vectors(store, job_id, embedder.model, text, embed_transcript(text, embedder))
    job = store.get_job(job_id)
    analysis = get_analyzer(settings, embedder).analyze(text, job.title, job.description)
    spoken = store.get_transcript(job_id).language
    store.save_analysis(job_id, analysis.model_copy(update={"language": spoken}))


def vocabulary(collection_id: str) -> list[str]:
    """The words and names a collection's videos are transcribed expecting (VOCABULARY's come first)."""
    return _collection(collection_id).vocabulary


def set_vocabulary(collection_id: str, words: str | list[str], *, add: bool = False,
                   settings: Settings | None = None) -> list[str]:
    """Set (or with `add`, extend) a collection's vocabulary; VocabularyTooLong, saying how many fit, when it and
    VOCABULARY together are more than Whisper's prompt holds. Takes effect for the videos transcribed from now on."""
    settings = settings or get_settings()
    collection = _collection(collection_id)
    chosen = prompts.words_of((collection.vocabulary if add else []) + prompts.words_of(words))
    everywhere = prompts.words_of(settings.vocabulary)
    prompts.check_fits(prompts.words_of(everywhere + chosen), "VOCABULARY and this collection's words together")
    get_store(service_role=True).set_collection_vocabulary(collection.id, chosen)
    return chosen


def _collection(collection_id: str):
    found = get_store().get_collections([collection_id])
    if not found:
        raise LookupError(f"There is no collection {collection_id!r}.")
    return found[0]
