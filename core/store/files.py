"""Media files (audio, thumbnails) in folders named like the storage buckets, under the data dir."""

from __future__ import annotations

import shutil
from pathlib import Path


class LocalFiles:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def put(self, bucket: str, name: str, source: Path) -> str:
        """Copy a file in (atomically) and return its key, "bucket/name"."""
        target = self.root / bucket / name
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        shutil.copyfile(source, partial)
        partial.replace(target)
        return f"{bucket}/{name}"

    def path(self, key: str) -> Path | None:
        path = (self.root / key).resolve()
        if self.root not in path.parents or not path.is_file():
            return None
        return path

    def remove_job(self, job_id: str) -> None:
        if self.root.is_dir():
            for bucket in self.root.iterdir():
                shutil.rmtree(bucket / job_id, ignore_errors=True)
