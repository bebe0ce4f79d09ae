"""Media files (audio, thumbnails) in folders named like the storage buckets, under the data dir."""

from __future__ import annotations

import mimetypes
import shutil
from pathlib import Path

from core.store.base import ReadOnlyLibrary
from core.store.supabase_client import api_key_headers, supabase_client


def media_type(name: str) -> str:
    """The MIME type of a media file from its name: what storage serves it as, and what a player is told."""
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


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

    def url(self, key: str) -> Path | None:
        """Where the file is, for the player and the image; None when it is not there."""
        path = (self.root / key).resolve()
        if self.root not in path.parents or not path.is_file():
            return None
        return path

    def remove(self, key: str) -> None:
        path = self.url(key)
        if path is not None:
            path.unlink(missing_ok=True)

    def remove_job(self, job_id: str) -> None:
        if self.root.is_dir():
            for bucket in self.root.iterdir():
                shutil.rmtree(bucket / job_id, ignore_errors=True)


class SupabaseFiles:
    """Media in Supabase Storage: audio in a private bucket served by 1-hour signed URLs, thumbnails in
    a public bucket. Buckets are created when missing. With the anon key (`can_write` False) files
    are only read: thumbnails by their public URL, audio where a storage policy lets anon sign."""

    SIGNED_URL_SECONDS = 3600
    # Supabase takes larger files through its resumable (TUS) endpoint, in pieces of exactly 6 MB.
    RESUMABLE_ABOVE_BYTES = 6 * 1024 * 1024
    RESUMABLE_CHUNK_BYTES = 6 * 1024 * 1024

    def __init__(self, url: str, key: str, audio_bucket: str, thumbnail_bucket: str, can_write: bool = True):
        self.base_url = url.rstrip("/")
        self.key = key
        self.client = supabase_client(url, key).storage
        self.public = {audio_bucket: False, thumbnail_bucket: True}
        self.can_write = can_write
        self._ready: set[str] = set()

    def _bucket(self, bucket: str):
        from storage3.exceptions import StorageApiError

        if bucket not in self._ready:
            try:
                self.client.get_bucket(bucket)
            except StorageApiError:
                self.client.create_bucket(bucket, options={"public": self.public.get(bucket, False)})
            self._ready.add(bucket)
        return self.client.from_(bucket)

    def put(self, bucket: str, name: str, source: Path) -> str:
        if not self.can_write:
            raise ReadOnlyLibrary("Storing media needs SUPABASE_SERVICE_ROLE_KEY.")
        content_type = media_type(source.name)
        store = self._bucket(bucket)
        if source.stat().st_size > self.RESUMABLE_ABOVE_BYTES:
            self._put_resumable(bucket, name, source, content_type)
        else:
            with source.open("rb") as data:
                store.upload(name, data, {"content-type": content_type, "upsert": "true"})
        return f"{bucket}/{name}"

    def _put_resumable(self, bucket: str, name: str, source: Path, content_type: str) -> None:
        """A large file in 6 MB pieces; after a failed piece the upload asks the server how much it holds
        and carries on from there, so an unsteady connection costs one piece, not the whole file."""
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter
        from tusclient.client import TusClient
        from tusclient.exceptions import TusCommunicationError

        client = TusClient(f"{self.base_url}/storage/v1/upload/resumable",
                           headers=api_key_headers(self.key) | {"x-upsert": "true"})
        uploader = client.uploader(file_path=str(source), chunk_size=self.RESUMABLE_CHUNK_BYTES, retries=3,
                                   retry_delay=2, metadata={"bucketName": bucket, "objectName": name,
                                                            "contentType": content_type, "cacheControl": "3600"})
        for attempt in Retrying(retry=retry_if_exception_type(TusCommunicationError), stop=stop_after_attempt(3),
                                wait=wait_exponential_jitter(initial=1, max=10), reraise=True):
            with attempt:
                uploader.upload()

    def url(self, key: str) -> str | None:
        bucket, _, name = key.partition("/")
        if self.public.get(bucket):
            return self.client.from_(bucket).get_public_url(name)
        from storage3.exceptions import StorageApiError

        try:
            return self.client.from_(bucket).create_signed_url(name, self.SIGNED_URL_SECONDS)["signedURL"]
        except StorageApiError:
            return None  # gone, or this key may not read the private bucket: the page shows no player

    def remove(self, key: str) -> None:
        if not self.can_write:
            raise ReadOnlyLibrary("Removing media needs SUPABASE_SERVICE_ROLE_KEY.")
        bucket, _, name = key.partition("/")
        self._bucket(bucket).remove([name])

    def remove_job(self, job_id: str) -> None:
        if not self.can_write:
            return
        for bucket in self.public:
            store = self._bucket(bucket)
            names = [f"{job_id}/{item['name']}" for item in store.list(job_id)]
            if names:
                store.remove(names)


class MediaFilesMixin:
    """The media half of a store: the same for every row store, whatever holds the files."""

    files: LocalFiles | SupabaseFiles

    def put_blob(self, bucket: str, name: str, source: Path) -> str:
        return self.files.put(bucket, name, source)

    def media_location(self, key: str) -> Path | str | None:
        return self.files.url(key)
