"""The library on Postgres, through the SQL functions of supabase/migrations: the same calls whether
they go straight to the database (PostgresStore) or through Supabase's REST API (SupabaseStore).
Each call is one transaction and answers in JSON, so the two behave alike."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np

from core.models import (
    VECTOR_BATCH,
    Analysis,
    AudioFile,
    Collection,
    Edit,
    Follow,
    Job,
    LibraryQuery,
    LibrarySummary,
    SearchFilters,
    Segment,
    Speaker,
    Stage,
    Theme,
    Transcript,
    Translation,
    Usage,
    VoiceSample,
    person_key,
)
from core.processes import uninterrupted
from core.store.base import JOB_FIELDS, DuplicateJob, FoundMoment, chapter_rows
from core.store.files import MediaFilesMixin
from core.store.hybrid import fuse, search_threads
from core.vectors import QueryVector, query_vector, with_video_vector


def vector_text(values) -> str:
    """pgvector's text form, which both ways of calling accept inside JSON."""
    return "[" + ",".join(f"{float(v):.7g}" for v in values) + "]"


def _pairs(keys: list[tuple[str, int]]) -> dict[str, list]:
    return {"p_job_ids": [k[0] for k in keys], "p_idxs": [int(k[1]) for k in keys]}


def _filters(filters: SearchFilters) -> dict[str, Any]:
    return {"platforms": filters.platforms or None, "categories": filters.categories or None,
            "sentiments": filters.sentiments or None,
            "date_from": filters.date_from, "date_to": filters.date_to,
            "job_ids": filters.job_ids or None, "collections": filters.collections or None,
            "speakers": [name.strip().lower() for name in filters.speakers] or None}


def _segment(row: dict) -> Segment:
    return Segment(start=row["start"], end=row["end"], text=row["text"], words=row.get("words"),
                   translation=row.get("translation"), translation_language=row.get("translation_language"),
                   speaker=row.get("speaker"), speaker_name=row.get("speaker_name"))


class FunctionStore(MediaFilesMixin):
    def call(self, function: str, **args) -> Any:
        """Run public.<function>(args) in one transaction; its result as JSON values. A job's time limit waits for
        the call to end (cut in the middle, it would leave a connection mid-conversation)."""
        with uninterrupted():
            return self._call_function(function, args)

    def _call_function(self, function: str, args: dict) -> Any:
        raise NotImplementedError

    # --- jobs -----------------------------------------------------------------------------
    def create_job(self, *, url: str, platform: str, extractor: str, video_id: str) -> Job:
        result = self.call("create_job", p_id=uuid.uuid4().hex[:12], p_url=url, p_platform=platform,
                           p_extractor=extractor, p_video_id=video_id)
        job = Job(**result["job"])
        if not result["created"]:
            raise DuplicateJob(job)
        return job

    def get_job(self, job_id: str) -> Job | None:
        row = self.call("get_job", p_id=job_id)
        return Job(**row) if row else None

    def get_jobs(self, job_ids: list[str]) -> dict[str, Job]:
        if not job_ids:
            return {}
        return {key: Job(**row) for key, row in self.call("get_jobs", p_ids=list(dict.fromkeys(job_ids))).items()}

    def find_job(self, platform: str, video_id: str) -> Job | None:
        row = self.call("find_job", p_platform=platform, p_video_id=video_id)
        return Job(**row) if row else None

    def list_jobs(self, *, statuses=None, platforms=None, collections=None, limit=None, offset=0) -> list[Job]:
        rows = self.call("list_jobs", p_statuses=list(statuses) if statuses else None,
                         p_platforms=list(platforms) if platforms else None,
                         p_collections=list(collections) if collections else None, p_limit=limit, p_offset=offset)
        return [Job(**row) for row in rows]

    def job_counts(self, *, platforms=None, collections=None) -> dict[str, int]:
        return {status: int(count) for status, count in self.call(
            "job_counts", p_platforms=list(platforms) if platforms else None,
            p_collections=list(collections) if collections else None).items()}

    def save_collection(self, *, url: str, platform: str, source_id: str, title: str | None) -> Collection:
        return Collection(**self.call("save_collection", p_id=uuid.uuid4().hex[:12], p_url=url, p_platform=platform,
                                      p_source_id=source_id, p_title=title))

    def platforms(self) -> list[str]:
        return list(self.call("job_platforms"))

    def library_summary(self, query: LibraryQuery, top_topics: int = 40, trend_topics: int = 5) -> LibrarySummary:
        return LibrarySummary(**self.call("library_summary", p_query=query.model_dump(mode="json"), p_top=top_topics,
                                          p_trend=trend_topics))

    def set_collection_vocabulary(self, collection_id: str, words: list[str]) -> None:
        self.call("set_collection_vocabulary", p_id=collection_id, p_words=words)

    def get_collections(self, ids: list[str] | None = None) -> list[Collection]:
        if ids is not None and not ids:
            return []
        return [Collection(**row) for row in self.call("get_collections", p_ids=list(dict.fromkeys(ids))
                                                       if ids is not None else None)]

    def update_job(self, job_id: str, **fields) -> None:
        unknown = set(fields) - JOB_FIELDS
        if unknown:
            raise ValueError(f"unknown job fields: {sorted(unknown)}")
        for key in ("id", "created_at", "updated_at"):  # fixed, or kept by the database
            fields.pop(key, None)
        for key in ("status", "stage"):
            if isinstance(fields.get(key), Stage):
                fields[key] = fields[key].value
        if "chapters" in fields:
            fields["chapters"] = chapter_rows(fields["chapters"])
        if fields:
            self.call("update_job", p_id=job_id, p_fields=fields)

    def enter_stage(self, job_id: str, stage: Stage, detail: str = "") -> None:
        self.call("enter_stage", p_id=job_id, p_stage=stage.value, p_detail=detail)

    def fail_job(self, job_id: str, stage: Stage, error: str) -> None:
        self.call("fail_job", p_id=job_id, p_stage=stage.value, p_error=error)

    def reset_job(self, job_id: str) -> None:
        self.call("reset_job", p_id=job_id)
        self.files.remove_job(job_id)

    def delete_job(self, job_id: str) -> None:
        self.files.remove_job(job_id)  # first: a media store that fails leaves the job whole, to delete again
        self.call("delete_job", p_id=job_id)

    def save_audio_file(self, audio: AudioFile) -> None:
        self.call("save_audio_file", p_audio=audio.model_dump(mode="json"))

    def expired_audio(self, before: str) -> list[AudioFile]:
        return [AudioFile(**row) for row in self.call("expired_audio", p_before=before)]

    def remove_audio(self, audio: AudioFile) -> None:
        self.files.remove(audio.audio_path)
        self.call("mark_audio_removed", p_job_id=audio.job_id)

    def get_audio_file(self, job_id: str) -> AudioFile | None:
        row = self.call("get_audio_file", p_job_id=job_id)
        return AudioFile(**row) if row else None

    def get_audio_files(self, job_ids: list[str]) -> dict[str, AudioFile]:
        if not job_ids:
            return {}
        rows = self.call("get_audio_files", p_job_ids=list(dict.fromkeys(job_ids)))
        return {key: AudioFile(**row) for key, row in rows.items()}

    # --- results --------------------------------------------------------------------------
    def save_transcript(self, job_id: str, transcript: Transcript) -> None:
        self.call("save_transcript", p_job_id=job_id, p_text=transcript.text, p_language=transcript.language,
                  p_engine=transcript.engine, p_segments=[s.model_dump(mode="json") for s in transcript.segments],
                  p_vocabulary=transcript.vocabulary, p_prompt=transcript.prompt, p_diarized=transcript.diarized,
                  p_speakers=[speaker.model_dump(mode="json") for speaker in transcript.speakers],
                  p_speakers_note=transcript.speakers_note)

    def get_transcript(self, job_id: str) -> Transcript | None:
        row = self.call("get_transcript", p_job_id=job_id)
        if not row:
            return None
        return Transcript(text=row["text"], language=row["language"], engine=row["engine"],
                          vocabulary=row.get("vocabulary") or [], prompt=row.get("prompt"),
                          diarized=bool(row.get("diarized")), speakers=row.get("speakers") or [],
                          speakers_note=row.get("speakers_note"), segments=[_segment(s) for s in row["segments"]])

    def save_speakers(self, job_id: str, speakers: list[Speaker]) -> None:
        self.call("save_speakers", p_job_id=job_id,
                  p_speakers=[speaker.model_dump(mode="json") for speaker in speakers])

    def add_library_usage(self, usage: Usage) -> None:
        self.call("add_library_usage", p_usage=usage.model_dump(mode="json"))

    def library_costs(self) -> dict[str, dict]:
        return self.call("library_costs") or {}

    def save_voice_sample(self, sample: VoiceSample) -> None:
        self.call("save_voice_sample", p_job_id=sample.job_id, p_speaker=sample.speaker, p_person=sample.person,
                  p_name=sample.name, p_seconds=sample.seconds, p_voice=sample.voice, p_model=sample.model)

    def remove_voice_sample(self, job_id: str, speaker: str) -> None:
        self.call("remove_voice_sample", p_job_id=job_id, p_speaker=speaker)

    def get_voice_samples(self, with_voices: bool = True) -> list[VoiceSample]:
        rows = self.call("voice_samples" if with_voices else "voice_names")
        return [VoiceSample(**row, has_voice=bool(row.get("voice"))) if with_voices else VoiceSample(**row)
                for row in rows]

    def forget_voice(self, name: str) -> int:
        return int(self.call("forget_voice", p_person=person_key(name)))

    def found_moments(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], FoundMoment]:
        if not keys:
            return {}
        return {(r["segment"]["job_id"], r["segment"]["idx"]): FoundMoment(
            _segment(r["segment"]), Job(**r["job"]), r["thumbnail_path"], r["language"])
            for r in self.call("found_moments", **_pairs(keys))}

    def get_segments(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], Segment]:
        if not keys:
            return {}
        rows = self.call("get_segments", **_pairs(keys))
        return {(r["job_id"], r["idx"]): _segment(r) for r in rows}

    def save_translation(self, job_id: str, translation: Translation) -> None:
        self.call("save_translation", p_job_id=job_id, p_language=translation.language,
                  p_source_language=translation.source_language, p_engine=translation.engine,
                  p_segments=[s.model_dump(mode="json", include={"start", "end", "text"})
                              for s in translation.segments])

    def get_translation(self, job_id: str) -> Translation | None:
        row = self.call("get_translation", p_job_id=job_id)
        if not row:
            return None
        return Translation(language=row["language"], source_language=row["source_language"], engine=row["engine"],
                           segments=[_segment(s) for s in row["segments"]])

    def save_analysis(self, job_id: str, analysis: Analysis) -> None:
        self.call("save_analysis", p_job_id=job_id, p_analysis=analysis.model_dump(mode="json"))

    def get_analysis(self, job_id: str) -> Analysis | None:
        row = self.call("get_analysis", p_job_id=job_id)
        return Analysis(**row) if row else None

    def get_analyses(self, job_ids: list[str]) -> dict[str, Analysis]:
        if not job_ids:
            return {}
        rows = self.call("get_analyses", p_job_ids=list(dict.fromkeys(job_ids)))
        return {key: Analysis(**row) for key, row in rows.items()}

    def save_embeddings(self, job_id: str, model: str, vectors: np.ndarray,
                        parts: Sequence[tuple[int, int]] = ()) -> None:
        """One vector per segment, one per part at -2, -3..., then the whole video's (their normalised mean) at
        index -1, last: the video counts as indexed only once that one is in."""
        rows = with_video_vector(vectors, parts)
        for start in range(0, len(rows), VECTOR_BATCH):
            batch = rows[start:start + VECTOR_BATCH]
            self.call("add_embeddings", p_job_id=job_id, p_model=model, p_idxs=[int(idx) for idx, _ in batch],
                      p_vectors=[vector_text(v) for _, v in batch], p_first=start == 0)

    def has_embeddings(self, job_id: str, model: str) -> bool:
        return bool(self.call("has_embeddings", p_job_id=job_id, p_model=model))

    def jobs_missing_embeddings(self, model: str) -> list[str]:
        return list(self.call("jobs_missing_embeddings", p_model=model))

    def video_vectors(self, model: str) -> tuple[list[str], np.ndarray]:
        rows = self.call("video_vectors", p_model=model)
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        vectors = np.array([[float(v) for v in row["vector"].strip("[]").split(",")] for row in rows],
                           dtype=np.float32)
        return [row["job_id"] for row in rows], vectors

    def part_vectors(self, model: str) -> tuple[list[tuple[str, int]], np.ndarray]:
        rows = self.call("video_part_vectors", p_model=model)
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        vectors = np.array([[float(v) for v in row["vector"].strip("[]").split(",")] for row in rows],
                           dtype=np.float32)
        return [(row["job_id"], int(row["part"])) for row in rows], vectors

    # --- corrections ----------------------------------------------------------------------
    def get_edits(self, job_id: str) -> list[Edit]:
        return [Edit(**row) for row in self.call("get_edits", p_job_id=job_id)]

    def add_edit(self, job_id: str, edit: Edit, base_revision: int) -> bool:
        return bool(self.call("add_edit", p_job_id=job_id, p_base_revision=base_revision,
                              p_edit=edit.model_dump(mode="json")))

    # --- follows --------------------------------------------------------------------------
    def save_follow(self, follow: Follow) -> None:
        self.call("save_follow", p_follow=follow.model_dump(mode="json"))

    def get_follows(self, ids: list[str] | None = None) -> list[Follow]:
        return [Follow(**row) for row in self.call("get_follows", p_ids=ids)]

    def delete_follow(self, follow_id: str) -> None:
        self.call("delete_follow", p_id=follow_id)

    # --- themes ---------------------------------------------------------------------------
    def get_themes(self) -> list[Theme]:
        return [Theme(**row) for row in self.call("get_themes")]

    def save_themes(self, themes: list[Theme]) -> None:
        self.call("save_themes", p_themes=[theme.model_dump(mode="json") for theme in themes])

    # --- usage and cost -------------------------------------------------------------------
    def add_usage(self, job_id: str, records: list[Usage]) -> None:
        if records:
            self.call("add_usage", p_job_id=job_id, p_records=[u.model_dump(mode="json") for u in records])

    def get_usage(self, job_id: str) -> list[Usage]:
        return [Usage(**row) for row in self.call("get_usage", p_job_id=job_id)]

    def costs(self) -> dict[str, float]:
        return {job_id: float(usd) for job_id, usd in self.call("job_costs").items()}

    # --- search ---------------------------------------------------------------------------
    def prepare_search(self, model: str) -> None:
        """Nothing to load here: the database holds the vectors and their index."""

    def search_segments(self, query: QueryVector, terms: list[str], model: str, limit: int,
                        filters: SearchFilters) -> list[tuple[str, int, float, bool]]:
        depth = max(limit * 5, 50)
        # The keyword half needs no vector: it runs beside the query's embedding and the meaning half.
        keywords = (search_threads().submit(self.call, "keyword_segments", p_terms=list(terms), match_count=depth,
                                             **_filters(filters)) if terms else None)
        vector = vector_text(query_vector(query))
        rows = self.call("match_segments_with_text", query_embedding=vector, match_count=depth,
                         embedding_model=model, **_filters(filters))
        by_meaning = [((r["job_id"], r["segment_idx"]), float(r["similarity"])) for r in rows]
        texts = {(r["job_id"], r["segment_idx"]): list(filter(None, [r["text"], r["translation"]])) for r in rows}
        keyword_rows = [(r["job_id"], r["idx"], r["text"]) for r in keywords.result()] if keywords else []

        def similarity_of(keys):
            found = self.call("segment_similarity", query_embedding=vector, embedding_model=model, **_pairs(keys))
            return {(r["job_id"], r["idx"]): float(r["similarity"]) for r in found}

        return fuse(by_meaning, texts, keyword_rows, terms, similarity_of, limit)
