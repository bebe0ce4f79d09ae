"""The embedded store: SQLite for rows, plain files for media, numpy for vector search."""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import numpy as np

from core.models import Analysis, AudioFile, Job, Segment, Sentiment, Stage, Transcript
from core.store import DuplicateJob

JOB_FIELDS = set(Job.model_fields)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("core.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text()))
    return sorted(found)


class LocalStore:
    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir).resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.data_dir / "library.sqlite3"
        self.blob_root = self.data_dir / "storage"
        self._migrate()

    # --- plumbing -------------------------------------------------------------------------
    @contextmanager
    def _db(self):
        # A short-lived connection per operation: the app, the CLI and workers are separate processes.
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 30000")
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _tx(self):
        with self._db() as conn:
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
                    for statement in sql.split(";\n"):
                        if statement.strip():
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

    def get_job(self, job_id: str) -> Job | None:
        with self._db() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._job(row) if row else None

    def find_job(self, platform: str, video_id: str) -> Job | None:
        with self._db() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE platform = ? AND video_id = ?", (platform, video_id)).fetchone()
        return self._job(row) if row else None

    def list_jobs(self, *, statuses=None, platforms=None) -> list[Job]:
        sql, args = "SELECT * FROM jobs WHERE 1=1", []
        for column, values in (("status", statuses), ("platform", platforms)):
            if values:
                sql += f" AND {column} IN ({','.join('?' * len(values))})"
                args += list(values)
        with self._db() as conn:
            rows = conn.execute(sql + " ORDER BY created_at DESC, rowid DESC", args).fetchall()
        return [self._job(row) for row in rows]

    def update_job(self, job_id: str, **fields) -> None:
        unknown = set(fields) - JOB_FIELDS
        if unknown:
            raise ValueError(f"unknown job fields: {sorted(unknown)}")
        if "stage_times" in fields:
            fields["stage_times"] = json.dumps(fields["stage_times"])
        for key in ("status", "stage"):
            if isinstance(fields.get(key), Stage):
                fields[key] = fields[key].value
        fields["updated_at"] = now_iso()
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._tx() as conn:
            conn.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*fields.values(), job_id))

    def enter_stage(self, job_id: str, stage: Stage, detail: str = "") -> None:
        with self._tx() as conn:
            row = conn.execute("SELECT stage_times FROM jobs WHERE id = ?", (job_id,)).fetchone()
            times = json.loads(row["stage_times"] or "{}") if row else {}
            times[stage.value] = now_iso()
            conn.execute(
                "UPDATE jobs SET status = ?, stage = ?, progress = ?, progress_detail = ?, error = NULL,"
                " stage_times = ?, updated_at = ? WHERE id = ?",
                (stage.value, stage.value, 1.0 if stage == Stage.COMPLETED else 0.0, detail,
                 json.dumps(times), now_iso(), job_id),
            )

    def fail_job(self, job_id: str, stage: Stage, error: str) -> None:
        job = self.get_job(job_id)
        times = dict(job.stage_times) if job else {}
        times[Stage.FAILED.value] = now_iso()
        self.update_job(job_id, status=Stage.FAILED, stage=stage, error=error, stage_times=times)

    def reset_job(self, job_id: str) -> None:
        stamp = now_iso()
        with self._tx() as conn:
            for table in ("embeddings", "analysis", "transcriptions", "audio_files"):
                conn.execute(f"DELETE FROM {table} WHERE job_id = ?", (job_id,))
            conn.execute(
                "UPDATE jobs SET status = 'pending', stage = 'pending', progress = 0, progress_detail = '',"
                " error = NULL, stage_times = ?, updated_at = ? WHERE id = ?",
                (json.dumps({"pending": stamp}), stamp, job_id),
            )
        self._remove_blobs(job_id)

    def delete_job(self, job_id: str) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        self._remove_blobs(job_id)

    # --- media ----------------------------------------------------------------------------
    def put_blob(self, bucket: str, name: str, source: Path) -> str:
        target = self.blob_root / bucket / name
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        shutil.copyfile(source, partial)
        partial.replace(target)
        return f"{bucket}/{name}"

    def blob_path(self, key: str) -> Path | None:
        path = (self.blob_root / key).resolve()
        if self.blob_root.resolve() not in path.parents or not path.is_file():
            return None
        return path

    def _remove_blobs(self, job_id: str) -> None:
        if self.blob_root.is_dir():
            for bucket in self.blob_root.iterdir():
                shutil.rmtree(bucket / job_id, ignore_errors=True)

    def save_audio_file(self, audio: AudioFile) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO audio_files (job_id, audio_path, thumbnail_path, duration, size_bytes,"
                " sample_rate, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (audio.job_id, audio.audio_path, audio.thumbnail_path, audio.duration, audio.size_bytes,
                 audio.sample_rate, now_iso()),
            )

    def get_audio_file(self, job_id: str) -> AudioFile | None:
        with self._db() as conn:
            row = conn.execute("SELECT * FROM audio_files WHERE job_id = ?", (job_id,)).fetchone()
        if not row:
            return None
        data = dict(row)
        data.pop("created_at")
        return AudioFile(**data)

    # --- results --------------------------------------------------------------------------
    def save_transcript(self, job_id: str, transcript: Transcript) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM transcriptions WHERE job_id = ?", (job_id,))
            conn.execute(
                "INSERT INTO transcriptions (job_id, text, language, engine, created_at) VALUES (?, ?, ?, ?, ?)",
                (job_id, transcript.text, transcript.language, transcript.engine, now_iso()),
            )
            conn.executemany(
                'INSERT INTO segments (job_id, idx, start, "end", text) VALUES (?, ?, ?, ?, ?)',
                [(job_id, i, s.start, s.end, s.text) for i, s in enumerate(transcript.segments)],
            )

    def get_transcript(self, job_id: str) -> Transcript | None:
        with self._db() as conn:
            row = conn.execute("SELECT * FROM transcriptions WHERE job_id = ?", (job_id,)).fetchone()
            if not row:
                return None
            segments = conn.execute(
                'SELECT start, "end", text FROM segments WHERE job_id = ? ORDER BY idx', (job_id,)
            ).fetchall()
        return Transcript(
            text=row["text"], language=row["language"], engine=row["engine"],
            segments=[Segment(start=s["start"], end=s["end"], text=s["text"]) for s in segments],
        )

    def get_segments(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], Segment]:
        found: dict[tuple[str, int], Segment] = {}
        with self._db() as conn:
            for job_id, idx in keys:
                row = conn.execute(
                    'SELECT start, "end", text FROM segments WHERE job_id = ? AND idx = ?', (job_id, idx)
                ).fetchone()
                if row:
                    found[(job_id, idx)] = Segment(start=row["start"], end=row["end"], text=row["text"])
        return found

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
        with self._db() as conn:
            row = conn.execute("SELECT * FROM analysis WHERE job_id = ?", (job_id,)).fetchone()
        if not row:
            return None
        return Analysis(
            summary=row["summary"], topics=json.loads(row["topics"]),
            sentiment=Sentiment(label=row["sentiment_label"], score=row["sentiment_score"]),
            segment_sentiment=json.loads(row["segment_sentiment"]), category=row["category"],
            language=row["language"], engine=row["engine"],
        )

    def save_embeddings(self, job_id: str, model: str, vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        with self._tx() as conn:
            conn.execute("DELETE FROM embeddings WHERE job_id = ? AND model = ?", (job_id, model))
            conn.executemany(
                "INSERT INTO embeddings (job_id, segment_idx, model, dim, vector) VALUES (?, ?, ?, ?, ?)",
                [(job_id, i, model, vectors.shape[1], v.tobytes()) for i, v in enumerate(vectors)],
            )

    def has_embeddings(self, job_id: str, model: str) -> bool:
        with self._db() as conn:
            return conn.execute(
                "SELECT 1 FROM embeddings WHERE job_id = ? AND model = ? LIMIT 1", (job_id, model)
            ).fetchone() is not None

    def nearest_segments(self, query: np.ndarray, model: str, limit: int) -> list[tuple[str, int, float]]:
        with self._db() as conn:
            rows = conn.execute(
                "SELECT e.job_id, e.segment_idx, e.vector FROM embeddings e JOIN jobs j ON j.id = e.job_id"
                " WHERE e.model = ? AND j.status = 'completed'", (model,)
            ).fetchall()
        if not rows:
            return []
        matrix = np.frombuffer(b"".join(r["vector"] for r in rows), dtype=np.float32).reshape(len(rows), -1)
        scores = matrix @ np.asarray(query, dtype=np.float32)
        top = np.argsort(-scores)[:limit]
        return [(rows[i]["job_id"], rows[i]["segment_idx"], float(scores[i])) for i in top]
