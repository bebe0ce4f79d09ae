"""The embedded store: SQLite for rows, plain files for media, numpy for vector search."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import numpy as np

from core.config import get_settings
from core.models import (
    SUMMARY_COLUMNS,
    Analysis,
    AudioFile,
    Collection,
    Edit,
    Follow,
    Job,
    LibraryQuery,
    LibrarySummary,
    MonthTally,
    SearchFilters,
    Segment,
    Sentiment,
    Speaker,
    Stage,
    Tally,
    Theme,
    Transcript,
    Translation,
    Usage,
    VoiceSample,
    person_key,
)
from core.processes import uninterrupted
from core.store.base import JOB_FIELDS, DuplicateJob, FoundMoment, LibraryUnavailable, chapter_rows
from core.store.files import LocalFiles, MediaFilesMixin
from core.store.hybrid import COMMON_WORD_SEGMENTS, fuse, search_threads
from core.store.nearest import GraphSlot, NearestSearch
from core.vectors import FIRST_PART, VIDEO_VECTOR, QueryVector, part_number, query_vector, with_video_vector

#: Each thread's open library connections (core.store.local.LocalStore._connection), a few libraries at most.
_kept = threading.local()
_inherited: list = []
KEPT_CONNECTIONS = 4
FILE_CHECK_SECONDS = 1.0


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None


#: The day a video counts on: its upload day, else the day it was added.
VIDEO_DAY = "coalesce(j.upload_date, substr(j.created_at, 1, 10))"


def _matching(columns: list[tuple[str, list | None]], date_from: str | None = None,
              date_to: str | None = None) -> tuple[str, list]:
    """SQL conditions (each beginning " AND ") keeping rows whose column holds one of the values given for it (no
    condition where none are given) and whose VIDEO_DAY lies between the dates given; and their arguments."""
    sql, args = "", []
    for column, values in columns:
        if values:
            sql += f" AND {column} IN ({','.join('?' * len(values))})"
            args += list(values)
    for bound, value in ((">=", date_from), ("<=", date_to)):
        if value:
            sql += f" AND {VIDEO_DAY} {bound} ?"
            args.append(value)
    return sql, args


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("core.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text()))
    return sorted(found)


def _statements(sql: str) -> list[str]:
    """Split a migration into statements; triggers contain semicolons, so ask SQLite where each ends."""
    statements, current = [], ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip() and not all(line.strip().startswith("--") or not line.strip() for line in current.splitlines()):
        raise ValueError(f"incomplete SQL statement in migration: {current[:80]}")
    return statements


class _VectorIndex:
    """One model's segment vectors in memory: a matrix, which (job, segment) each row is, and the search over them
    (core.store.nearest), which starts from the graph of the library's previous matrix."""

    def __init__(self, rows: list[sqlite3.Row], slot: GraphSlot, min_rows: int):
        self.keys = [(r["job_id"], r["segment_idx"]) for r in rows]
        self.positions = {key: i for i, key in enumerate(self.keys)}
        self.job_set = {job_id for job_id, _ in self.keys}
        self.job_names = sorted(self.job_set)
        codes = {name: i for i, name in enumerate(self.job_names)}
        self.job_codes = np.array([codes[job_id] for job_id, _ in self.keys], dtype=np.int32)
        self._codes = codes
        if rows:
            self.matrix = np.frombuffer(b"".join(r["vector"] for r in rows), dtype=np.float32).reshape(len(rows), -1)
        else:
            self.matrix = np.zeros((0, 1), dtype=np.float32)
        rowids = np.array([r["rowid"] for r in rows], dtype=np.int64)
        self.search = NearestSearch(self.matrix, rowids, slot, min_rows)

    def rows_of(self, jobs: set[str]) -> np.ndarray:
        wanted = np.zeros(len(self.job_names), dtype=bool)
        wanted[[self._codes[j] for j in jobs if j in self._codes]] = True
        return wanted[self.job_codes]


class LocalStore(MediaFilesMixin):
    read_only = False

    def __init__(self, data_dir: Path, files=None):
        self.data_dir = Path(data_dir).resolve()
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file in the way, no permission, a read-only disk
            why = "a file of that name is in the way" if isinstance(exc, FileExistsError) else exc.strerror
            raise LibraryUnavailable(f"DATA_DIR={self.data_dir} cannot hold the library: {why}. Point DATA_DIR at a "
                                     "folder this user may write to.") from exc
        self.db_path = self.data_dir / "library.sqlite3"
        self.files = files or LocalFiles(self.data_dir / "storage")
        self.search_index_min_segments = get_settings().search_index_min_segments
        self._migrate()

    # --- plumbing -------------------------------------------------------------------------
    @contextmanager
    def _db(self):
        yield self._connection()

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection to the library, opened once: a search or a page makes a dozen reads, and
        opening SQLite costs more than most of them. Not shared across threads or a fork, and opened again
        when the file was replaced (looked at no more than every FILE_CHECK_SECONDS: on some machines a stat
        costs a fifth of a millisecond, and a search makes a dozen reads)."""
        if getattr(_kept, "pid", None) != os.getpid():
            # Connections a forked child inherited are never used or closed here (closing one could
            # checkpoint or remove the WAL under the parent's feet): they are only kept from the GC.
            _inherited.extend(getattr(_kept, "connections", {}).values())
            _kept.pid, _kept.connections = os.getpid(), OrderedDict()
        conn, opened_inode, checked = _kept.connections.pop(self.db_path, (None, None, 0.0))
        if conn is not None and time.monotonic() - checked > FILE_CHECK_SECONDS:
            if opened_inode != _inode(self.db_path):
                conn.close()
                conn = None
            checked = time.monotonic()
        if conn is None:
            conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 30000")
            opened_inode, checked = _inode(self.db_path), time.monotonic()
        _kept.connections[self.db_path] = (conn, opened_inode, checked)
        while len(_kept.connections) > KEPT_CONNECTIONS:
            _kept.connections.popitem(last=False)[1][0].close()
        return conn

    @contextmanager
    def _tx(self):
        with uninterrupted(), self._db() as conn:  # a job's time limit waits for the transaction to end
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _migrate(self) -> None:
        with self._db() as conn:
            conn.execute("PRAGMA journal_mode = WAL")
        with self._tx() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for number, sql in _migrations():
                if number > version:
                    for statement in _statements(sql):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        with self._db() as conn:
            return conn.execute("PRAGMA user_version").fetchone()[0]

    @staticmethod
    def _job(row: sqlite3.Row) -> Job:
        data = dict(row)
        data["stage_times"] = json.loads(data["stage_times"] or "{}")
        data["chapters"] = json.loads(data.get("chapters") or "[]")
        return Job(**data)

    # --- jobs -----------------------------------------------------------------------------
    def create_job(self, *, url: str, platform: str, extractor: str, video_id: str) -> Job:
        job_id = uuid.uuid4().hex[:12]
        stamp = now_iso()
        try:
            with self._tx() as conn:
                conn.execute(
                    "INSERT INTO jobs (id, url, platform, extractor, video_id, stage_times, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (job_id, url, platform, extractor, video_id, json.dumps({"pending": stamp}), stamp, stamp),
                )
        except sqlite3.IntegrityError:
            existing = self.find_job(platform, video_id)
            if existing is None:
                raise
            raise DuplicateJob(existing) from None
        return self.get_job(job_id)

    def _rows_by_id(self, sql: str, ids: list[str]) -> list[sqlite3.Row]:
        """Rows of `sql` (with one `{ids}` placeholder list) for many ids, in chunks SQLite accepts."""
        ids = list(dict.fromkeys(ids))
        rows = []
        with self._db() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                rows += conn.execute(sql.format(ids=",".join("?" * len(chunk))), chunk).fetchall()
        return rows

    def get_job(self, job_id: str) -> Job | None:
        return self.get_jobs([job_id]).get(job_id)

    def get_jobs(self, job_ids: list[str]) -> dict[str, Job]:
        rows = self._rows_by_id("SELECT * FROM jobs WHERE id IN ({ids})", job_ids)
        return {row["id"]: self._job(row) for row in rows}

    def find_job(self, platform: str, video_id: str) -> Job | None:
        with self._db() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE platform = ? AND video_id = ?",
                               (platform, video_id)).fetchone()
        return self._job(row) if row else None

    def list_jobs(self, *, statuses=None, platforms=None, collections=None, limit=None, offset=0) -> list[Job]:
        where, args = _matching([("status", statuses), ("platform", platforms), ("collection_id", collections)])
        with self._db() as conn:
            rows = conn.execute(f"SELECT * FROM jobs WHERE 1=1{where} ORDER BY created_at DESC, rowid DESC"
                                " LIMIT ? OFFSET ?", [*args, -1 if limit is None else limit, offset]).fetchall()
        return [self._job(row) for row in rows]

    def job_counts(self, *, platforms=None, collections=None) -> dict[str, int]:
        where, args = _matching([("platform", platforms), ("collection_id", collections)])
        with self._db() as conn:
            return dict(conn.execute(f"SELECT status, count(*) FROM jobs WHERE 1=1{where} GROUP BY status", args))

    def save_collection(self, *, url: str, platform: str, source_id: str, title: str | None) -> Collection:
        with self._tx() as conn:
            conn.execute("INSERT INTO collections (id, url, platform, source_id, title, created_at)"
                         " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (platform, source_id) DO UPDATE SET"
                         " title = coalesce(excluded.title, collections.title)",
                         (uuid.uuid4().hex[:12], url, platform, source_id, title, now_iso()))
            row = conn.execute("SELECT * FROM collections WHERE platform = ? AND source_id = ?",
                               (platform, source_id)).fetchone()
        return self._collection(row)

    @staticmethod
    def _collection(row) -> Collection:
        data = {k: row[k] for k in row.keys() if k != "created_at"}
        return Collection(**data | {"vocabulary": json.loads(data.get("vocabulary") or "[]")})

    def platforms(self) -> list[str]:
        with self._db() as conn:
            return [row[0] for row in conn.execute("SELECT DISTINCT platform FROM jobs ORDER BY platform")]

    def library_summary(self, query: LibraryQuery, top_topics: int = 40, trend_topics: int = 5) -> LibrarySummary:
        language = "lower(substr(replace(coalesce(a.language, ''), '_', '-') || '-', 1," \
                   " instr(replace(coalesce(a.language, ''), '_', '-') || '-', '-') - 1))"
        where, args = _matching([("j.platform", query.platforms), ("a.category", query.categories),
                                 (language, query.languages), ("j.collection_id", query.collections),
                                 ("j.id", query.job_ids)], query.date_from, query.date_to)
        # The kept videos' facts are worked out once, into a table of this connection's own, then counted.
        kept = ("CREATE TEMP TABLE kept AS SELECT j.id, j.platform, coalesce(j.duration, 0) AS duration,"
                f" {VIDEO_DAY} AS day,"
                " substr(coalesce(json_extract(j.stage_times, '$.completed'), j.updated_at), 1, 10) AS processed_day,"
                f" a.category, a.sentiment_label AS sentiment, a.sentiment_score AS score, {language} AS language,"
                " a.topics FROM jobs j JOIN analysis a ON a.job_id = j.id"
                f" WHERE j.status = 'completed'{where}")
        themed = "kept LEFT JOIN theme_videos tv ON tv.job_id = kept.id"
        topics = "kept, json_each(kept.topics) t"
        with self._db() as conn:
            conn.execute("DROP TABLE IF EXISTS temp.kept")
            conn.execute(kept, args)

            def rows(sql: str, extra: tuple = ()) -> list:
                return conn.execute(sql, extra).fetchall()

            job_ids = [row[0] for row in rows("SELECT id FROM kept ORDER BY id")]
            videos, seconds, score = rows("SELECT count(*), total(duration), coalesce(avg(score), 0) FROM kept")[0]
            by = {column: rows(f"SELECT {column}, count(*), avg(score) FROM kept GROUP BY 1 ORDER BY 2 DESC, 1")
                  for column in SUMMARY_COLUMNS if column != "theme"}
            by["theme"] = rows(f"SELECT coalesce(tv.theme_id, ''), count(*), avg(score) FROM {themed}"
                               " GROUP BY 1 ORDER BY 2 DESC, 1")
            theme_months = rows(f"SELECT tv.theme_id, substr(day, 1, 7), count(*) FROM {themed}"
                                " WHERE tv.theme_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2")
            top = rows(f"SELECT lower(t.value), count(DISTINCT kept.id) FROM {topics}"
                       " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?", (top_topics,))
            leaders = [row[0] for row in top[:trend_topics]]
            topic_months = rows(f"SELECT lower(t.value), substr(day, 1, 7), count(DISTINCT kept.id) FROM {topics}"
                                f" WHERE lower(t.value) IN ({','.join('?' * len(leaders))})"
                                " GROUP BY 1, 2 ORDER BY 1, 2", tuple(leaders)) if leaders else []
            conn.execute("DROP TABLE temp.kept")
        return LibrarySummary(
            videos=videos, seconds=seconds, score=score, job_ids=job_ids,
            by={column: [Tally(value=row[0] or "", videos=row[1], score=row[2]) for row in found]
                for column, found in by.items()},
            theme_months=[MonthTally(value=row[0], month=row[1], videos=row[2]) for row in theme_months],
            topics=[Tally(value=row[0], videos=row[1]) for row in top],
            topic_months=[MonthTally(value=row[0], month=row[1], videos=row[2]) for row in topic_months])

    def set_collection_vocabulary(self, collection_id: str, words: list[str]) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE collections SET vocabulary = ? WHERE id = ?", (json.dumps(words), collection_id))

    def get_collections(self, ids: list[str] | None = None) -> list[Collection]:
        if ids is None:
            with self._db() as conn:
                rows = conn.execute("SELECT * FROM collections").fetchall()
        else:
            rows = self._rows_by_id("SELECT * FROM collections WHERE id IN ({ids})", ids)
        rows = sorted(rows, key=lambda row: row["created_at"], reverse=True)
        return [self._collection(row) for row in rows]

    def update_job(self, job_id: str, **fields) -> None:
        unknown = set(fields) - JOB_FIELDS
        if unknown:
            raise ValueError(f"unknown job fields: {sorted(unknown)}")
        if "stage_times" in fields:
            fields["stage_times"] = json.dumps(fields["stage_times"])
        if "chapters" in fields:
            fields["chapters"] = json.dumps(chapter_rows(fields["chapters"]))
        for key in ("status", "stage"):
            if isinstance(fields.get(key), Stage):
                fields[key] = fields[key].value
        fields["updated_at"] = now_iso()
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._tx() as conn:
            conn.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*fields.values(), job_id))

    def _stamped(self, job_id: str, moment: str, **fields) -> None:
        """Set the job's fields and note `moment` in its stage times, read and written in one transaction."""
        with self._tx() as conn:
            row = conn.execute("SELECT stage_times FROM jobs WHERE id = ?", (job_id,)).fetchone()
            times = json.loads(row["stage_times"] or "{}") if row else {}
            times[moment] = now_iso()
            fields |= {"stage_times": json.dumps(times), "updated_at": now_iso()}
            conn.execute(f"UPDATE jobs SET {', '.join(f'{name} = ?' for name in fields)} WHERE id = ?",
                         (*fields.values(), job_id))

    def enter_stage(self, job_id: str, stage: Stage, detail: str = "") -> None:
        self._stamped(job_id, stage.value, status=stage.value, stage=stage.value,
                      progress=1.0 if stage == Stage.COMPLETED else 0.0, progress_detail=detail, error=None)

    def fail_job(self, job_id: str, stage: Stage, error: str) -> None:
        self._stamped(job_id, Stage.FAILED.value, status=Stage.FAILED.value, stage=stage.value, error=error)

    def reset_job(self, job_id: str) -> None:
        stamp = now_iso()
        with self._tx() as conn:
            for table in ("embeddings", "analysis", "translations", "transcriptions", "audio_files", "usage", "edits"):
                conn.execute(f"DELETE FROM {table} WHERE job_id = ?", (job_id,))
            conn.execute(
                "UPDATE jobs SET status = 'pending', stage = 'pending', progress = 0, progress_detail = '',"
                " error = NULL, chapters = '[]', stage_times = ?, updated_at = ? WHERE id = ?",
                (json.dumps({"pending": stamp}), stamp, job_id),
            )
        self.files.remove_job(job_id)

    def delete_job(self, job_id: str) -> None:
        self.files.remove_job(job_id)  # first: a media store that fails leaves the job whole, to delete again
        with self._tx() as conn:
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def save_audio_file(self, audio: AudioFile) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO audio_files (job_id, audio_path, thumbnail_path, duration, size_bytes,"
                " sample_rate, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (audio.job_id, audio.audio_path, audio.thumbnail_path, audio.duration, audio.size_bytes,
                 audio.sample_rate, now_iso()),
            )

    def expired_audio(self, before: str) -> list[AudioFile]:
        with self._db() as conn:
            rows = conn.execute("SELECT * FROM audio_files WHERE created_at < ? AND audio_removed_at IS NULL"
                                " ORDER BY created_at", (before,)).fetchall()
        return [AudioFile(**{k: row[k] for k in row.keys() if k != "created_at"}) for row in rows]

    def remove_audio(self, audio: AudioFile) -> None:
        self.files.remove(audio.audio_path)
        with self._tx() as conn:
            conn.execute("UPDATE audio_files SET audio_removed_at = ? WHERE job_id = ?", (now_iso(), audio.job_id))

    def get_audio_file(self, job_id: str) -> AudioFile | None:
        return self.get_audio_files([job_id]).get(job_id)

    def get_audio_files(self, job_ids: list[str]) -> dict[str, AudioFile]:
        rows = self._rows_by_id("SELECT * FROM audio_files WHERE job_id IN ({ids})", job_ids)
        return {row["job_id"]: AudioFile(**{k: row[k] for k in row.keys() if k != "created_at"}) for row in rows}

    # --- results --------------------------------------------------------------------------
    def save_transcript(self, job_id: str, transcript: Transcript) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM transcriptions WHERE job_id = ?", (job_id,))
            conn.execute(
                "INSERT INTO transcriptions (job_id, text, language, engine, vocabulary, prompt, diarized, speakers,"
                " speakers_note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, transcript.text, transcript.language, transcript.engine, json.dumps(transcript.vocabulary),
                 transcript.prompt, int(transcript.diarized),
                 json.dumps([speaker.model_dump(mode="json") for speaker in transcript.speakers]),
                 transcript.speakers_note, now_iso()),
            )
            conn.executemany(
                'INSERT INTO segments (job_id, idx, start, "end", text, words, speaker) VALUES (?, ?, ?, ?, ?, ?, ?)',
                [(job_id, i, s.start, s.end, s.text,
                  json.dumps([w.model_dump() for w in s.words]) if s.words else None, s.speaker)
                 for i, s in enumerate(transcript.segments)],
            )

    def get_transcript(self, job_id: str) -> Transcript | None:
        with self._db() as conn:
            row = conn.execute("SELECT * FROM transcriptions WHERE job_id = ?", (job_id,)).fetchone()
            if not row:
                return None
            segments = conn.execute(
                'SELECT start, "end", text, words, speaker FROM segments WHERE job_id = ? ORDER BY idx', (job_id,)
            ).fetchall()
        return Transcript(
            text=row["text"], language=row["language"], engine=row["engine"],
            vocabulary=json.loads(row["vocabulary"] or "[]"), prompt=row["prompt"],
            diarized=bool(row["diarized"]), speakers=json.loads(row["speakers"] or "[]"),
            speakers_note=row["speakers_note"],
            segments=[Segment(start=s["start"], end=s["end"], text=s["text"], speaker=s["speaker"],
                              words=json.loads(s["words"]) if s["words"] else None) for s in segments],
        )

    def save_speakers(self, job_id: str, speakers: list[Speaker]) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE transcriptions SET speakers = ? WHERE job_id = ?",
                         (json.dumps([speaker.model_dump(mode="json") for speaker in speakers]), job_id))

    def save_voice_sample(self, sample: VoiceSample) -> None:
        with self._tx() as conn:
            conn.execute("INSERT OR REPLACE INTO voice_samples (job_id, speaker, person, name, seconds, voice, model,"
                         " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (sample.job_id, sample.speaker, sample.person, sample.name, sample.seconds,
                          json.dumps(sample.voice), sample.model, now_iso()))

    def remove_voice_sample(self, job_id: str, speaker: str) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM voice_samples WHERE job_id = ? AND speaker = ?", (job_id, speaker))

    def get_voice_samples(self, with_voices: bool = True) -> list[VoiceSample]:
        with self._db() as conn:
            rows = conn.execute("SELECT job_id, speaker, name, seconds, model, voice <> '[]' AS has_voice"
                                f"{', voice' if with_voices else ''} FROM voice_samples"
                                " ORDER BY created_at, job_id, speaker").fetchall()
        return [VoiceSample(job_id=r["job_id"], speaker=r["speaker"], name=r["name"], seconds=r["seconds"],
                            model=r["model"], has_voice=bool(r["has_voice"]),
                            voice=json.loads(r["voice"]) if with_voices else []) for r in rows]

    def forget_voice(self, name: str) -> int:
        with self._tx() as conn:
            return conn.execute("UPDATE voice_samples SET voice = '[]' WHERE person = ? AND voice <> '[]'",
                                (person_key(name),)).rowcount

    def get_segments(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], Segment]:
        found: dict[tuple[str, int], Segment] = {}
        for start in range(0, len(keys), 400):  # SQLite takes a few hundred parameters at once
            chunk = keys[start:start + 400]
            wanted = ", ".join("(?, ?)" for _ in chunk)
            with self._db() as conn:
                rows = conn.execute(
                    f"WITH k(job_id, idx) AS (VALUES {wanted}) SELECT s.job_id, s.idx, s.start, s.\"end\", s.text,"
                    " s.speaker, (SELECT json_extract(sp.value, '$.name') FROM transcriptions w, json_each(w.speakers)"
                    "  sp WHERE w.job_id = s.job_id AND json_extract(sp.value, '$.id') = s.speaker) AS speaker_name,"
                    " t.text AS translation, tr.language AS translation_language FROM k"
                    " JOIN segments s ON s.job_id = k.job_id AND s.idx = k.idx"
                    " LEFT JOIN translation_segments t ON t.job_id = s.job_id AND t.idx = s.idx"
                    " LEFT JOIN translations tr ON tr.job_id = t.job_id",
                    [value for key in chunk for value in key]).fetchall()
            for row in rows:
                found[(row["job_id"], row["idx"])] = Segment(
                    start=row["start"], end=row["end"], text=row["text"], translation=row["translation"],
                    translation_language=row["translation_language"], speaker=row["speaker"],
                    speaker_name=row["speaker_name"])
        return found

    def found_moments(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], FoundMoment]:
        segments = self.get_segments(keys)
        jobs = self.get_jobs([job_id for job_id, _ in segments])
        shown = {row["id"]: row for row in self._rows_by_id(
            "SELECT j.id, f.thumbnail_path, a.language FROM jobs j LEFT JOIN audio_files f ON f.job_id = j.id"
            " LEFT JOIN analysis a ON a.job_id = j.id WHERE j.id IN ({ids})", list(jobs))}
        return {key: FoundMoment(segment, jobs[key[0]], shown[key[0]]["thumbnail_path"], shown[key[0]]["language"])
                for key, segment in segments.items() if key[0] in jobs}

    def save_translation(self, job_id: str, translation: Translation) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM translations WHERE job_id = ?", (job_id,))
            conn.execute("INSERT INTO translations (job_id, language, source_language, engine, text, created_at)"
                         " VALUES (?, ?, ?, ?, ?, ?)", (job_id, translation.language, translation.source_language,
                                                       translation.engine, translation.text, now_iso()))
            conn.executemany('INSERT INTO translation_segments (job_id, idx, start, "end", text)'
                             " VALUES (?, ?, ?, ?, ?)",
                             [(job_id, i, s.start, s.end, s.text) for i, s in enumerate(translation.segments)])

    def get_translation(self, job_id: str) -> Translation | None:
        with self._db() as conn:
            row = conn.execute("SELECT * FROM translations WHERE job_id = ?", (job_id,)).fetchone()
            if not row:
                return None
            segments = conn.execute('SELECT start, "end", text FROM translation_segments WHERE job_id = ?'
                                    " ORDER BY idx", (job_id,)).fetchall()
        return Translation(language=row["language"], source_language=row["source_language"], engine=row["engine"],
                           segments=[Segment(start=s["start"], end=s["end"], text=s["text"]) for s in segments])

    def save_analysis(self, job_id: str, analysis: Analysis) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO analysis (job_id, summary, topics, sentiment_label, sentiment_score,"
                " segment_sentiment, category, language, engine, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, analysis.summary, json.dumps(analysis.topics), analysis.sentiment.label,
                 analysis.sentiment.score, json.dumps(analysis.segment_sentiment), analysis.category,
                 analysis.language, analysis.engine, now_iso()),
            )

    def get_analysis(self, job_id: str) -> Analysis | None:
        return self.get_analyses([job_id]).get(job_id)

    def get_analyses(self, job_ids: list[str]) -> dict[str, Analysis]:
        return {row["job_id"]: Analysis(
            summary=row["summary"], topics=json.loads(row["topics"]),
            sentiment=Sentiment(label=row["sentiment_label"], score=row["sentiment_score"]),
            segment_sentiment=json.loads(row["segment_sentiment"]), category=row["category"],
            language=row["language"], engine=row["engine"],
        ) for row in self._rows_by_id("SELECT * FROM analysis WHERE job_id IN ({ids})", job_ids)}

    def save_embeddings(self, job_id: str, model: str, vectors: np.ndarray,
                        parts: Sequence[tuple[int, int]] = ()) -> None:
        """One vector per segment, one per part at -2, -3..., plus the whole video's (their normalised mean) at -1."""
        rows = [(job_id, idx, model, len(v), v.tobytes()) for idx, v in with_video_vector(vectors, parts)]
        with self._tx() as conn:
            conn.execute("DELETE FROM embeddings WHERE job_id = ? AND model = ?", (job_id, model))
            conn.executemany(
                "INSERT INTO embeddings (job_id, segment_idx, model, dim, vector) VALUES (?, ?, ?, ?, ?)", rows)

    def jobs_missing_embeddings(self, model: str) -> list[str]:
        """Completed jobs not fully indexed with this model (embedded with another one, or half-written)."""
        with self._db() as conn:
            rows = conn.execute(
                "SELECT id FROM jobs j WHERE status = 'completed' AND NOT EXISTS"
                " (SELECT 1 FROM embeddings e WHERE e.job_id = j.id AND e.model = ? AND e.segment_idx = ?)"
                " ORDER BY created_at", (model, VIDEO_VECTOR)).fetchall()
        return [row[0] for row in rows]

    def video_vectors(self, model: str) -> tuple[list[str], np.ndarray]:
        with self._db() as conn:
            rows = conn.execute(
                "SELECT e.job_id, e.vector FROM embeddings e JOIN jobs j ON j.id = e.job_id AND j.status = 'completed'"
                " WHERE e.model = ? AND e.segment_idx = ? ORDER BY j.created_at, j.id",
                (model, VIDEO_VECTOR)).fetchall()
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        return [row[0] for row in rows], np.vstack([np.frombuffer(row[1], dtype=np.float32) for row in rows])

    def part_vectors(self, model: str) -> tuple[list[tuple[str, int]], np.ndarray]:
        with self._db() as conn:
            rows = conn.execute(
                "SELECT e.job_id, e.segment_idx, e.vector FROM embeddings e"
                " JOIN jobs j ON j.id = e.job_id AND j.status = 'completed'"
                " WHERE e.model = ? AND e.segment_idx <= ? ORDER BY j.created_at, j.id, e.segment_idx DESC",
                (model, FIRST_PART)).fetchall()
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        return ([(row[0], part_number(row[1])) for row in rows],
                np.vstack([np.frombuffer(row[2], dtype=np.float32) for row in rows]))

    def get_themes(self) -> list[Theme]:
        with self._db() as conn:
            rows = conn.execute("SELECT * FROM themes ORDER BY id").fetchall()
            members: dict[str, list[str]] = {}
            for job_id, theme_id in conn.execute("SELECT job_id, theme_id FROM theme_videos ORDER BY job_id"):
                members.setdefault(theme_id, []).append(job_id)
        return [Theme(id=row["id"], label=row["label"], keywords=json.loads(row["keywords"]),
                      job_ids=members.get(row["id"], []), named=bool(row["named"]), merged_into=row["merged_into"])
                for row in rows]

    def save_themes(self, themes: list[Theme]) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM theme_videos")
            conn.execute("DELETE FROM themes")
            conn.executemany("INSERT INTO themes (id, label, keywords, named, merged_into, updated_at)"
                             " VALUES (?, ?, ?, ?, ?, ?)",
                             [(t.id, t.label, json.dumps(t.keywords), int(t.named), t.merged_into, now_iso())
                              for t in themes])
            # a video deleted meanwhile is left out
            conn.executemany("INSERT OR IGNORE INTO theme_videos (job_id, theme_id)"
                             " SELECT id, ? FROM jobs WHERE id = ?",
                             [(t.id, job_id) for t in themes for job_id in t.job_ids])

    # --- corrections ------------------------------------------------------------------------
    def get_edits(self, job_id: str) -> list[Edit]:
        with self._db() as conn:
            rows = conn.execute("SELECT data FROM edits WHERE job_id = ? ORDER BY revision", (job_id,)).fetchall()
        return [Edit.model_validate_json(row[0]) for row in rows]

    def add_edit(self, job_id: str, edit: Edit, base_revision: int) -> bool:
        with self._tx() as conn:
            latest = conn.execute("SELECT coalesce(max(revision), 0) FROM edits WHERE job_id = ?",
                                  (job_id,)).fetchone()[0]
            if latest != base_revision:
                return False
            edit = edit.model_copy(update={"revision": latest + 1})
            conn.execute("INSERT INTO edits (job_id, revision, data) VALUES (?, ?, ?)",
                         (job_id, edit.revision, edit.model_dump_json()))
            if edit.undoes:
                conn.execute("UPDATE edits SET data = json_set(data, '$.undone', json('true'))"
                             " WHERE job_id = ? AND revision = ?", (job_id, edit.undoes))
        return True

    # --- follows ----------------------------------------------------------------------------
    def save_follow(self, follow: Follow) -> None:
        with self._tx() as conn:
            conn.execute("INSERT INTO follows (id, url, data, next_check_at) VALUES (?, ?, ?, ?) ON CONFLICT (id)"
                         " DO UPDATE SET url = excluded.url, data = excluded.data,"
                         " next_check_at = excluded.next_check_at",
                         (follow.id, follow.url, follow.model_dump_json(), follow.next_check_at))

    def get_follows(self, ids: list[str] | None = None) -> list[Follow]:
        with self._db() as conn:
            rows = conn.execute("SELECT data FROM follows").fetchall()
        found = [Follow.model_validate_json(row[0]) for row in rows]
        return sorted((f for f in found if ids is None or f.id in ids), key=lambda f: (f.created_at, f.id))

    def delete_follow(self, follow_id: str) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM follows WHERE id = ?", (follow_id,))

    def has_embeddings(self, job_id: str, model: str) -> bool:
        """Whether the video is indexed: its whole-video vector, written last, is there."""
        with self._db() as conn:
            return conn.execute(
                "SELECT 1 FROM embeddings WHERE job_id = ? AND model = ? AND segment_idx = ?",
                (job_id, model, VIDEO_VECTOR)).fetchone() is not None

    # --- usage and cost -------------------------------------------------------------------
    def add_usage(self, job_id: str, records: list[Usage]) -> None:
        with self._tx() as conn:
            conn.executemany(
                "INSERT INTO usage (job_id, stage, engine, model, audio_seconds, input_tokens, output_tokens,"
                " cost_usd, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(job_id, u.stage, u.engine, u.model, u.audio_seconds, u.input_tokens, u.output_tokens, u.cost_usd,
                  now_iso()) for u in records])

    def get_usage(self, job_id: str) -> list[Usage]:
        with self._db() as conn:
            rows = conn.execute("SELECT stage, engine, model, audio_seconds, input_tokens, output_tokens, cost_usd"
                                " FROM usage WHERE job_id = ? ORDER BY rowid", (job_id,)).fetchall()
        return [Usage(**dict(row)) for row in rows]

    def add_library_usage(self, usage: Usage) -> None:
        with self._tx() as conn:
            conn.execute("INSERT INTO library_usage (stage, engine, model, input_tokens, output_tokens, cost_usd,"
                         " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (usage.stage, usage.engine, usage.model, usage.input_tokens, usage.output_tokens,
                          usage.cost_usd, now_iso()))

    def library_costs(self) -> dict[str, dict]:
        with self._db() as conn:
            rows = conn.execute("SELECT stage, sum(cost_usd), count(*) FROM library_usage WHERE cost_usd IS NOT NULL"
                                " GROUP BY stage").fetchall()
        return {row[0]: {"usd": row[1], "calls": row[2]} for row in rows}

    def costs(self) -> dict[str, float]:
        """Estimated cost per job, for the jobs that used priced hosted engines."""
        with self._db() as conn:
            rows = conn.execute("SELECT job_id, sum(cost_usd) FROM usage WHERE cost_usd IS NOT NULL"
                                " GROUP BY job_id").fetchall()
        return {row[0]: row[1] for row in rows}

    # --- search ---------------------------------------------------------------------------
    _vector_cache: dict[tuple[Path, str], tuple] = {}
    _graph_slots: dict[tuple[Path, str], GraphSlot] = {}  # the search graph of each library and model

    def _vector_index(self, model: str):
        """All segment vectors of one model as one matrix, reloaded only when the embeddings change."""
        with self._db() as conn:
            version = conn.execute("SELECT value FROM counters WHERE name = 'embeddings'").fetchone()[0]
            cached = self._vector_cache.get((self.db_path, model))
            if cached and cached[0] == version:
                return cached[1]
            rows = conn.execute(
                "SELECT rowid, job_id, segment_idx, vector FROM embeddings WHERE model = ? AND segment_idx >= 0"
                " ORDER BY rowid", (model,)).fetchall()
        key = (self.db_path, model)
        index = _VectorIndex(rows, self._graph_slots.setdefault(key, GraphSlot()), self.search_index_min_segments)
        self._vector_cache[key] = (version, index)
        return index

    def prepare_search(self, model: str) -> None:
        """Read the model's vectors into memory now (and start building their index in the background)."""
        self._vector_index(model)

    def search_index_coverage(self, model: str) -> tuple[int, int]:
        """(segments the approximate search index answers for, segments in all) of one embedding model."""
        return self._vector_index(model).search.coverage()

    @staticmethod
    def _searchable_sql(filters: SearchFilters) -> tuple[str, list]:
        """The query selecting the ids of the completed videos that pass the filters, and its arguments."""
        where, args = _matching([("j.platform", filters.platforms), ("a.category", filters.categories),
                                 ("a.sentiment_label", filters.sentiments), ("j.id", filters.job_ids),
                                 ("j.collection_id", filters.collections)], filters.date_from, filters.date_to)
        return ("SELECT j.id FROM jobs j LEFT JOIN analysis a ON a.job_id = j.id WHERE j.status = 'completed'"
                + where, args)

    @classmethod
    def _spoken_by_sql(cls, filters: SearchFilters) -> tuple[str, list] | None:
        """The query selecting (job_id, idx) of the segments said by the people the filters name (any case), in
        the videos that pass the other filters; None without a speaker filter."""
        if not filters.speakers:
            return None
        jobs_sql, jobs_args = cls._searchable_sql(filters)
        names = [name.strip().lower() for name in filters.speakers]
        return ("SELECT s.job_id, s.idx FROM transcriptions t, json_each(t.speakers) sp"
                " JOIN segments s ON s.job_id = t.job_id AND s.speaker = json_extract(sp.value, '$.id')"
                f" WHERE lower(json_extract(sp.value, '$.name')) IN ({','.join('?' * len(names))})"
                f" AND t.job_id IN ({jobs_sql})", [*names, *jobs_args])

    def _unfinished_jobs(self) -> set[str]:
        """The videos not (or no longer) completed: a few at any time, however large the library."""
        with self._db() as conn:
            return {row[0] for row in conn.execute("SELECT id FROM jobs WHERE status != 'completed'")}

    def _searchable_jobs(self, filters: SearchFilters) -> set[str]:
        sql, args = self._searchable_sql(filters)
        with self._db() as conn:
            return {row[0] for row in conn.execute(sql, args)}

    def keyword_segments(self, terms: list[str], allowed: set[str], limit: int) -> list[tuple[str, int, str]]:
        """(job_id, segment index, text) of the segments of these videos whose words, or their translation's,
        contain any of the terms, best BM25 first."""
        return self._keyword_rows(terms, limit, "SELECT value FROM json_each(?)", [json.dumps(sorted(allowed))])

    def _keyword_rows(self, terms: list[str], limit: int, jobs_sql: str, jobs_args: list,
                      most_pass: bool = False, spoken_by: tuple[str, list] | None = None,
                      common_to_meaning: bool = False) -> list[tuple[str, int, str]]:
        """As keyword_segments, for the videos `jobs_sql` selects: they are chosen before the limit applies, so a
        filter that keeps a few videos of a large library still finds their matches. `most_pass`: nearly every
        video passes (no filter: only the unfinished fall out), so the best matches are ranked first and those
        videos checked after, which spares reading the video of every match; when too many fall out, every match
        is checked after all. `common_to_meaning` (hybrid search, unless the people who said them are chosen): the
        words held by more than COMMON_WORD_SEGMENTS of the segments searched (estimated by the share of the videos
        searched) are left out: BM25 over every segment holding one costs ~2 us each (10 ms at 100,000 segments)."""
        rows = []
        words = ['"' + term.replace('"', '""') + '"' for term in terms]
        with self._db() as conn:
            bound = None  # the holders a word may have in the whole library without being common where searched
            if words and common_to_meaning and not spoken_by:
                searched = 1.0
                if not most_pass:
                    library = conn.execute("SELECT count(*) FROM jobs WHERE status = 'completed'").fetchone()[0]
                    searched = conn.execute(f"SELECT count(*) FROM ({jobs_sql})", jobs_args).fetchone()[0] / max(
                        library, 1)
                bound = int(COMMON_WORD_SEGMENTS / searched) if searched > 0 else None
            for table in ("segments_fts", "translation_segments_fts"):
                quoted = words
                if bound is not None and bound < (conn.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0):
                    quoted = [word for word in words if conn.execute(
                        f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {table} MATCH ? LIMIT ?)",
                        (word, bound + 1)).fetchone()[0] <= bound]
                if not quoted:
                    continue
                match = " OR ".join(quoted)
                best = f"SELECT job_id, idx, text, bm25({table}) AS rank FROM {table} WHERE {table} MATCH ?"
                found = None
                if most_pass:
                    ranked = conn.execute(f"SELECT *, job_id IN ({jobs_sql}) AS kept"
                                          f" FROM ({best} ORDER BY rank LIMIT ?)",
                                          (*jobs_args, match, 2 * limit)).fetchall()
                    found = [row for row in ranked if row["kept"]]
                    if len(found) < limit and len(ranked) == 2 * limit:  # some fell out, more may lie beyond
                        found = None
                if found is None and spoken_by:
                    found = conn.execute(f"{best} AND (job_id, idx) IN ({spoken_by[0]}) ORDER BY rank LIMIT ?",
                                         (match, *spoken_by[1], limit)).fetchall()
                if found is None:
                    found = conn.execute(f"{best} AND job_id IN ({jobs_sql}) ORDER BY rank LIMIT ?",
                                         (match, *jobs_args, limit)).fetchall()
                rows += found
        rows.sort(key=lambda r: r["rank"])
        return [(r["job_id"], int(r["idx"]), r["text"]) for r in rows[:limit]]

    def search_segments(self, query: QueryVector, terms: list[str], model: str, limit: int,
                        filters: SearchFilters) -> list[tuple[str, int, float, bool]]:
        """Hybrid search: candidates by meaning and by keywords, scored by similarity plus a keyword bonus.

        Returns (job_id, segment index, cosine similarity, keyword match), best first.
        """
        depth = max(limit * 5, 50)
        # The keyword half runs in SQLite while numpy does the vector half: both let go of the GIL.
        spoken_by = self._spoken_by_sql(filters)
        keyword_rows = search_threads().submit(self._keyword_rows, terms, depth, *self._searchable_sql(filters),
                                                most_pass=filters == SearchFilters(), spoken_by=spoken_by,
                                                common_to_meaning=True)
        index = self._vector_index(model)
        if filters == SearchFilters():  # every completed video: only the few others are left out
            left_out = self._unfinished_jobs() & index.job_set
        else:
            allowed = self._searchable_jobs(filters)
            if not allowed:
                return []
            left_out = index.job_set - allowed
        if not index.keys or left_out == index.job_set:
            return []
        allowed = None
        if spoken_by:  # only those people's own lines
            with self._db() as conn:
                rows = [index.positions[key] for key in map(tuple, conn.execute(*spoken_by).fetchall())
                        if key in index.positions]
            allowed = np.zeros(len(index.keys), dtype=bool)
            allowed[rows] = True
        elif left_out:
            allowed = ~index.rows_of(left_out)
        vector = query_vector(query)
        rows, similarity = index.search.nearest(vector, depth, allowed)
        by_meaning = [(index.keys[row], float(score)) for row, score in zip(rows, similarity, strict=True)]
        texts = {key: [segment.text, *filter(None, [segment.translation])]
                 for key, segment in self.get_segments([key for key, _ in by_meaning]).items()} if terms else {}
        keyword_rows = keyword_rows.result()

        def similarity_of(keys):
            rows = [index.positions[key] for key in keys if key in index.positions]
            scores = index.matrix[rows] @ vector if rows else []
            return {index.keys[row]: float(score) for row, score in zip(rows, scores, strict=True)}

        return fuse(by_meaning, texts, keyword_rows, terms, similarity_of, limit)
