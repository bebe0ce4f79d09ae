"""A Supabase project for the tests, over HTTP, in front of a real Postgres + pgvector (`services.start_postgres`).

- /rest/v1/rpc/<function>: PostgREST's RPC call. The key is a JWT (HS256) naming a role; the call runs
  in one transaction as that role (`set local role`), with the JSON body turned into named arguments
  by json_to_record as PostgREST does, so grants, Row Level Security and SQL errors are real. Results:
  a set-returning function gives an array of rows, a scalar its JSON value, void 204. Errors carry
  PostgREST's JSON body and HTTP status (42501 -> 401 for anon / 403, 23505 -> 409, unknown function
  -> 404 PGRST202, bad key -> 401 PGRST301).
- /storage/v1/...: the Storage calls storage3 makes (buckets, upload with x-upsert, list, remove, signed
  and public URLs) over files in a folder; only the service role may write or sign.
`fail_next(n, status)` makes the next n requests fail, as a gateway in trouble would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import urllib.parse
import uuid
from email.parser import BytesParser
from email.policy import default as email_policy
from pathlib import Path

import psycopg

from core.store.postgres import SUPABASE_ROLES

MIGRATIONS = Path(__file__).resolve().parent.parent / "supabase" / "migrations"

SECRET = b"test-jwt-secret-with-at-least-32-characters"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_key(role: str) -> str:
    """A project API key as Supabase issues them: a JWT whose `role` claim is the database role."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps({"iss": "supabase", "role": role}).encode())
    signature = _b64(hmac.new(SECRET, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def role_of(key: str | None) -> str | None:
    try:
        header, payload, signature = (key or "").split(".")
    except ValueError:
        return None
    expected = _b64(hmac.new(SECRET, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(signature, expected):
        return None
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["role"]


def _http_status(sqlstate: str, role: str) -> int:
    # PostgREST's table of SQLSTATE -> HTTP status (the cases these tests meet).
    if sqlstate == "42501":
        return 401 if role == "anon" else 403
    if sqlstate in ("23505", "23503"):
        return 409
    if sqlstate == "42883":
        return 404
    if sqlstate.startswith(("08", "53", "57")):
        return 503
    return 400 if sqlstate.startswith(("22", "23", "P0", "42")) else 500


class FakeSupabase:
    def __init__(self, database_url: str, storage_dir: Path):
        self.database_url = database_url
        self.storage = Path(storage_dir)
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, role)
        self.failures: list[list] = []  # [status, only requests of this method, how many of them to let pass]
        self.uploads: dict[str, dict] = {}  # resumable uploads in progress
        self._lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, payload = fake.answer(self.command, self.path, self.headers, body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, count: int, status: int = 503, method: str | None = None, after: int = 0) -> None:
        with self._lock:
            self.failures.extend([status, method, after] for _ in range(count))

    def calls(self, prefix: str) -> list[tuple[str, str, str | None]]:
        return [r for r in self.requests if r[1].startswith(prefix)]

    # --- dispatch ---------------------------------------------------------------------------
    def answer(self, method: str, raw_path: str, headers, body: bytes):
        parsed = urllib.parse.urlsplit(raw_path)
        path, query = parsed.path, urllib.parse.parse_qs(parsed.query)
        bearer = (headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        role = role_of(bearer) if headers.get("apikey") else None
        with self._lock:
            self.requests.append((method, path, role))
            failure = None
            if self.failures and self.failures[0][1] in (None, method):
                if self.failures[0][2] > 0:
                    self.failures[0][2] -= 1
                else:
                    failure = self.failures.pop(0)[0]
        if failure:
            return failure, {"Content-Type": "text/html"}, b"<html>upstream trouble</html>"
        if path.startswith("/rest/v1/rpc/") and method == "POST":
            if role is None:
                return self._json(401, {"code": "PGRST301", "message": "No suitable key or wrong key type",
                                        "details": None, "hint": None})
            return self.rpc(path.removeprefix("/rest/v1/rpc/"), json.loads(body or b"{}"), role)
        if path.startswith("/storage/v1/"):
            return self.storage_call(method, path.removeprefix("/storage/v1/"), query, headers, body, role)
        return self._json(404, {"message": "no route"})

    @staticmethod
    def _json(status: int, value) -> tuple[int, dict, bytes]:
        return status, {"Content-Type": "application/json"}, json.dumps(value).encode()

    # --- PostgREST RPC ----------------------------------------------------------------------
    def rpc(self, function: str, args: dict, role: str):
        with psycopg.connect(self.database_url) as conn:
            found = conn.execute(
                "select p.proretset, p.prorettype = 'void'::regtype, coalesce(p.proargnames, '{}'),"
                " array(select format_type(t, null) from unnest(p.proargtypes::oid[]) with ordinality u(t, n)"
                "       order by n), p.pronargdefaults"
                " from pg_proc p where p.proname = %s and p.pronamespace = 'public'::regnamespace",
                (function,)).fetchone()
            if found is None:
                return self._json(404, {"code": "PGRST202", "details": None, "hint": None,
                                        "message": f"Could not find the function public.{function} in the schema "
                                                   "cache"})
            returns_set, returns_void, names, types, defaults = found
            required = set(names[:len(names) - defaults])
            if not required <= set(args) <= set(names):
                return self._json(404, {"code": "PGRST202", "details": None, "hint": None,
                                        "message": f"Could not find the function public.{function}"
                                                   f"({', '.join(sorted(args))}) in the schema cache"})
            # proargnames also names a table function's output columns, after its arguments
            given = [(n, t) for n, t in zip(names, types, strict=False) if n in args]
            call = f"public.{function}(" + ", ".join(f'"{n}" := _."{n}"' for n, _ in given) + ")"
            source = (" from json_to_record(%s::json) as _(" + ", ".join(f'"{n}" {t}' for n, t in given) + ")"
                      if given else " from (select) _")
            if returns_set:
                statement = f"select coalesce(json_agg(r), '[]'){source}, lateral {call} r"
            elif returns_void:
                statement = f"select {call}::text{source}"
            else:
                statement = f"select to_json({call}){source}"
            try:
                conn.execute("select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
                             (role, json.dumps({"role": role})))
                row = conn.execute(statement, (json.dumps(args),) if given else ()).fetchone()
            except psycopg.Error as exc:
                conn.rollback()
                diag = exc.diag
                state = diag.sqlstate or "XX000"
                return self._json(_http_status(state, role), {"code": state, "message": diag.message_primary,
                                                              "details": diag.message_detail,
                                                              "hint": diag.message_hint})
        if returns_void:
            return 204, {}, b""
        return self._json(200, row[0])

    # --- Storage ----------------------------------------------------------------------------
    def resumable(self, method, upload_id, headers, body):
        """Supabase's TUS 1.0.0 endpoint: create, ask the offset, append pieces of exactly 6 MB."""
        tus = {"Tus-Resumable": "1.0.0"}
        if method == "POST" and upload_id is None:
            metadata = {}
            for pair in headers.get("Upload-Metadata", "").split(","):
                key, _, value = pair.strip().partition(" ")
                metadata[key] = base64.b64decode(value).decode()
            upload_id = hashlib.md5(f"{metadata}{len(self.uploads)}".encode()).hexdigest()
            self.uploads[upload_id] = {"bucket": metadata["bucketName"], "name": metadata["objectName"],
                                       "length": int(headers["Upload-Length"]), "data": bytearray(),
                                       "upsert": headers.get("x-upsert") == "true"}
            return 201, tus | {"Location": f"{self.url}/storage/v1/upload/resumable/{upload_id}"}, b""
        upload = self.uploads.get(upload_id or "")
        if upload is None:
            return 404, tus, b""
        if method == "HEAD":
            return 200, tus | {"Upload-Offset": str(len(upload["data"])), "Upload-Length": str(upload["length"]),
                               "Cache-Control": "no-store"}, b""
        if method == "PATCH":
            if int(headers["Upload-Offset"]) != len(upload["data"]):
                return 409, tus, b"offset mismatch"
            end = len(upload["data"]) + len(body)
            if len(body) != 6 * 1024 * 1024 and end != upload["length"]:
                return 400, tus, b"chunks must be 6 MB"
            upload["data"] += body
            if end == upload["length"]:
                target = self._object(upload["bucket"], upload["name"])
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(bytes(upload["data"]))
            return 204, tus | {"Upload-Offset": str(end)}, b""
        return 405, tus, b""

    def _bucket_file(self, bucket: str) -> Path:
        return self.storage / bucket / ".bucket.json"

    def _object(self, bucket: str, name: str) -> Path:
        target = (self.storage / bucket / name).resolve()
        assert self.storage.resolve() in target.parents
        return target

    def storage_call(self, method, path, query, headers, body, role):
        service = role == "service_role"
        parts = path.split("/")
        if parts[:2] == ["upload", "resumable"] and service:
            return self.resumable(method, parts[2] if len(parts) > 2 else None, headers, body)
        if parts[0] == "bucket":
            if method == "GET" and len(parts) == 2:
                meta = self._bucket_file(parts[1])
                if not meta.is_file():
                    return self._json(400, {"statusCode": "404", "error": "Bucket not found",
                                            "message": "Bucket not found"})
                return self._json(200, json.loads(meta.read_text()))
            if method == "POST" and service:
                spec = json.loads(body)
                meta = self._bucket_file(spec["id"])
                meta.parent.mkdir(parents=True, exist_ok=True)
                meta.write_text(json.dumps({"id": spec["id"], "name": spec["name"], "public": spec.get("public", False),
                                            "owner": "", "created_at": "2026-01-01T00:00:00Z",
                                            "updated_at": "2026-01-01T00:00:00Z", "file_size_limit": None,
                                            "allowed_mime_types": None}))
                return self._json(200, {"name": spec["id"]})
        if parts[0] == "object":
            kind = parts[1]
            if kind == "public" and method == "GET":
                bucket, name = parts[2], "/".join(parts[3:])
                meta = self._bucket_file(bucket)
                target = self._object(bucket, name)
                if meta.is_file() and json.loads(meta.read_text())["public"] and target.is_file():
                    return 200, {"Content-Type": "application/octet-stream"}, target.read_bytes()
                return self._json(400, {"statusCode": "404", "error": "not_found", "message": "Object not found"})
            if kind == "sign":
                bucket, name = parts[2], urllib.parse.unquote("/".join(parts[3:]))
                token = hmac.new(SECRET, f"{bucket}/{name}".encode(), hashlib.sha256).hexdigest()
                target = self._object(bucket, name)
                if method == "POST" and service:
                    if not target.is_file():
                        return self._json(400, {"statusCode": "404", "error": "not_found",
                                                "message": "Object not found"})
                    quoted = urllib.parse.quote(name)
                    return self._json(200, {"signedURL": f"/object/sign/{bucket}/{quoted}?token={token}"})
                if method == "GET" and query.get("token") == [token] and target.is_file():
                    return 200, {"Content-Type": "audio/mpeg"}, target.read_bytes()
            elif kind == "list" and method == "POST" and service:
                prefix = json.loads(body).get("prefix", "")
                folder = self._object(parts[2], prefix) if prefix else self.storage / parts[2]
                names = sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
                return self._json(200, [{"name": n} for n in names if n != ".bucket.json"])
            elif method == "DELETE" and len(parts) == 2 and service:
                removed = []
                for name in json.loads(body)["prefixes"]:
                    target = self._object(parts[1], name)
                    if target.is_file():
                        target.unlink()
                        removed.append({"name": name})
                return self._json(200, removed)
            elif method in ("POST", "PUT") and service:
                bucket, name = parts[1], urllib.parse.unquote("/".join(parts[2:]))
                target = self._object(bucket, name)
                if not self._bucket_file(bucket).is_file():
                    return self._json(400, {"statusCode": "404", "error": "Bucket not found",
                                            "message": "Bucket not found"})
                if target.exists() and headers.get("x-upsert") != "true":
                    return self._json(400, {"statusCode": "409", "error": "Duplicate",
                                            "message": "The resource already exists"})
                content_type = headers.get("Content-Type", "")
                if content_type.startswith("multipart/form-data"):  # storage3 sends the file as a form field
                    form = BytesParser(policy=email_policy).parsebytes(
                        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
                    body = next(part.get_payload(decode=True) for part in form.iter_parts()
                                if part.get_param("name", header="content-disposition") == "file")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(body)
                return self._json(200, {"Key": f"{bucket}/{name}", "Id": hashlib.md5(body).hexdigest()})
        return self._json(403 if not service else 400, {"statusCode": "403", "error": "Unauthorized",
                                                        "message": "new row violates row-level security policy"})


def new_database(postgres_server) -> str:
    """A new, empty database on a Postgres of `testkit.services.start_postgres`."""
    name = f"t{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"create database {name}")
    return postgres_server.get_uri(database=name)


def supabase_baseline() -> str:
    """What a Supabase project's database has before any migration: the API roles and their default grants."""
    return SUPABASE_ROLES + """
grant usage on schema public to anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
"""


def supabase_database(postgres_server) -> str:
    """A new database set up as `supabase db push` leaves a project: baseline, then every migration."""
    url = new_database(postgres_server)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(supabase_baseline())
        for migration in sorted(MIGRATIONS.glob("*.sql")):
            conn.execute(migration.read_text())
    return url


def supabase_project_on(postgres_server, storage_dir: Path) -> FakeSupabase:
    """A Supabase project over HTTP on a fresh, migrated database of `postgres_server`, with its two keys
    as `service_key` and `anon_key`."""
    fake = FakeSupabase(supabase_database(postgres_server), storage_dir)
    fake.service_key, fake.anon_key = make_key("service_role"), make_key("anon")
    return fake
