"""Media files (audio, thumbnails) in folders named like the storage buckets, under the data dir."""

from __future__ import annotations

import mimetypes
import shutil
import time
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from core.config import parse_media_storage_url
from core.store.base import MediaStoreRefused, MediaStoreUnavailable, ReadOnlyLibrary
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

    def problem(self) -> str | None:
        return None


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

    def problem(self) -> str | None:
        return None  # Storage answers with the project's REST API, whose problems the library reports


def _error_code(exc: Exception) -> tuple[str, int]:
    response = getattr(exc, "response", None) or {}
    return (str(response.get("Error", {}).get("Code", "")),
            int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0))


class S3Files:
    """Media in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Supabase Storage's S3 endpoint), under the
    prefix of MEDIA_STORAGE_URL: s3://bucket/prefix/<media bucket>/<job id>/<file>. Every object stays private; a
    player or an image gets a presigned URL valid for an hour. Credentials and region come from boto3's own chain
    (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, profiles, instance roles)."""

    SIGNED_URL_SECONDS = 3600
    #: Larger files go up in parts of this size, several at once; an interrupted part is sent again alone.
    PART_BYTES = 16 * 1024 * 1024
    #: A store found unusable is asked again after this long (the app shows its problem meanwhile).
    RECHECK_SECONDS = 30
    #: Tries of each request: connection errors, timeouts, 5xx and throttling are retried with backoff.
    ATTEMPTS = 4

    def __init__(self, url: str, endpoint_url: str | None, media_buckets: Iterable[str]):
        import boto3
        from botocore.config import Config

        self.location = url
        self.bucket, self.prefix = parse_media_storage_url(url)
        self.media_buckets = tuple(media_buckets)
        self.client = boto3.session.Session().client("s3", endpoint_url=endpoint_url or None, config=Config(
            retries={"mode": "standard", "max_attempts": self.ATTEMPTS}, connect_timeout=5, read_timeout=60,
            signature_version="s3v4",
            # Self-hosted stores (MinIO...) name the bucket in the path, not in the host name.
            s3={"addressing_style": "path" if endpoint_url else "auto"}))
        self._bucket_ready = False
        self._last_check: tuple[float, str | None] | None = None

    # --- keys -----------------------------------------------------------------------------
    def _object_key(self, key: str) -> str:
        """Where a media key ("bucket/job/file") lies in the bucket; a key that could leave the prefix is refused."""
        parts = key.split("/")
        if len(parts) < 2 or any(part in ("", ".", "..") for part in parts) or "\\" in key:
            raise ValueError(f"not a media key: {key!r}")
        return f"{self.prefix}/{key}" if self.prefix else key

    # --- errors ---------------------------------------------------------------------------
    @contextmanager
    def _calling(self, doing: str, permission: str):
        """Turns what boto3 raises into MediaStoreUnavailable (try again later) or MediaStoreRefused (a setting
        to fix), each saying what was being done and what to check."""
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

        try:
            yield
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise MediaStoreRefused(f"The media store {self.location} needs credentials: set AWS_ACCESS_KEY_ID and "
                                    f"AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or give the machine a role).") from exc
        except (ClientError, S3UploadFailedError) as exc:
            cause = exc if isinstance(exc, ClientError) else exc.__context__
            code, status = _error_code(cause)
            if status >= 500 or status == 429 or code in ("SlowDown", "RequestTimeout", "InternalError",
                                                           "ServiceUnavailable"):
                raise MediaStoreUnavailable(f"The media store {self.location} failed while {doing} ({code or status}, "
                                            f"after {self.ATTEMPTS} tries).") from exc
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
                        "InvalidClientTokenId"):
                raise MediaStoreRefused(f"The media store {self.location} rejects the credentials ({code}): check "
                                        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.") from exc
            if code in ("AccessDenied", "AllAccessDisabled", "403") or status == 403:
                raise MediaStoreRefused(f"The media store {self.location} denies {doing}: the credentials lack "
                                        f"the permission {permission} on the bucket {self.bucket}.") from exc
            raise MediaStoreRefused(f"The media store {self.location} refused {doing}: {code or status}: "
                                    f"{str(cause)[:200]}") from exc
        except BotoCoreError as exc:  # the endpoint cannot be reached, or does not answer in time
            raise MediaStoreUnavailable(f"The media store {self.location} cannot be reached while {doing}: "
                                        f"{type(exc).__name__}: {str(exc)[:200]}") from exc

    def _ensure_bucket(self) -> None:
        """The bucket is created when missing (once per process)."""
        if self._bucket_ready:
            return
        from botocore.exceptions import ClientError

        with self._calling(f"checking the bucket {self.bucket}", "s3:ListBucket"):
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                code = _error_code(exc)[0]
                if code in ("404", "NoSuchBucket"):
                    self._create_bucket()
                elif code == "403":  # a HEAD is answered without a body: ask so that the answer says why
                    self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)
                else:
                    raise
        self._bucket_ready = True

    def _create_bucket(self) -> None:
        from botocore.exceptions import ClientError

        region = self.client.meta.region_name
        where = ({} if region in (None, "us-east-1", "aws-global")
                 else {"CreateBucketConfiguration": {"LocationConstraint": region}})
        with self._calling(f"creating the bucket {self.bucket}", "s3:CreateBucket"):
            try:
                self.client.create_bucket(Bucket=self.bucket, **where)
            except ClientError as exc:
                if _error_code(exc)[0] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

    # --- the media side of a store --------------------------------------------------------------
    def put(self, bucket: str, name: str, source: Path) -> str:
        from boto3.s3.transfer import TransferConfig

        key = f"{bucket}/{name}"
        self._ensure_bucket()
        with self._calling(f"storing {key}", "s3:PutObject"):
            self.client.upload_file(str(source), self.bucket, self._object_key(key),
                                    ExtraArgs={"ContentType": media_type(name)},
                                    Config=TransferConfig(multipart_threshold=self.PART_BYTES,
                                                          multipart_chunksize=self.PART_BYTES, max_concurrency=4))
        return key

    def url(self, key: str) -> str | None:
        """A presigned URL (made here, no request) valid for an hour."""
        try:
            object_key = self._object_key(key)
        except ValueError:
            return None
        return self.client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": object_key},
                                                  ExpiresIn=self.SIGNED_URL_SECONDS)

    def remove(self, key: str) -> None:
        from botocore.exceptions import ClientError

        with self._calling(f"removing {key}", "s3:DeleteObject"):
            try:
                self.client.delete_object(Bucket=self.bucket, Key=self._object_key(key))
            except ClientError as exc:
                if _error_code(exc)[0] != "NoSuchBucket":  # no bucket, no object: gone already
                    raise

    def remove_job(self, job_id: str) -> None:
        from botocore.exceptions import ClientError

        self._object_key(f"any/{job_id}")  # a job id that could leave the prefix is refused here too
        pages = self.client.get_paginator("list_objects_v2")
        with self._calling(f"removing the media of job {job_id}", "s3:ListBucket and s3:DeleteObject"):
            try:
                for bucket in self.media_buckets:
                    prefix = self._object_key(f"{bucket}/{job_id}") + "/"
                    for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
                        found = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                        if found:  # at most 1,000 a page, as many as one request may delete
                            self.client.delete_objects(Bucket=self.bucket,
                                                       Delete={"Objects": found, "Quiet": True})
            except ClientError as exc:
                if _error_code(exc)[0] != "NoSuchBucket":  # nothing was ever stored
                    raise

    def problem(self) -> str | None:
        """Why media cannot be stored here just now, or None; asked again RECHECK_SECONDS after a problem."""
        if self._bucket_ready:
            return None
        if self._last_check and time.monotonic() - self._last_check[0] < self.RECHECK_SECONDS:
            return self._last_check[1]
        try:
            self._ensure_bucket()
            found = None
        except (MediaStoreRefused, MediaStoreUnavailable) as exc:
            found = str(exc)
        self._last_check = (time.monotonic(), found)
        return found


class MediaFilesMixin:
    """The media half of a store: the same for every row store, whatever holds the files."""

    files: LocalFiles | SupabaseFiles | S3Files

    def put_blob(self, bucket: str, name: str, source: Path) -> str:
        return self.files.put(bucket, name, source)

    def media_location(self, key: str) -> Path | str | None:
        return self.files.url(key)

    def media_problem(self) -> str | None:
        return self.files.problem()
