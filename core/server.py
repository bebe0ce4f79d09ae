"""The HTTP API: `python -m core serve`. A third face over core.api, beside the pages and the CLI, with no
logic of its own: it checks who calls, turns requests into core.api calls, and answers the same pydantic
models the CLI's --json prints. Interactive documentation at /docs, the schema at /openapi.json."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import time
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from core import api
from core.config import MAX_PLAYLIST_HARD_CAP, Settings, get_settings
from core.jobs.queue import unavailable
from core.library.exports import NOT_EXPORTED
from core.models import (
    CATEGORIES,
    MAX_ASK_HISTORY,
    MAX_QUESTION_CHARS,
    MAX_SEGMENT_CHARS,
    Analysis,
    Answer,
    AskTurn,
    Edit,
    FollowView,
    JobDetails,
    JobView,
    SearchFilters,
    SearchHit,
    SegmentChange,
    SpeakerView,
    Stage,
    SubmittedJob,
    ThemeView,
    TranscriptView,
    TranslationView,
    VoiceView,
)
from core.providers.hosted import TransientEngineError

EVENT_POLL_SECONDS = 0.5
Category = Literal[tuple(CATEGORIES)]  # type: ignore[valid-type]
MAX_URL_LENGTH = 2048
#: Larger request bodies are refused (413): a hundred long links fit many times over.
MAX_BODY_BYTES = 1024 * 1024


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


#: What the settings of this process allow, stated in the schema as the server enforces it.
MAX_LINKS = get_settings().max_links_per_submission
#: One link: no spaces or control characters (the Submit page splits on them); whether it is a video link a site
#: serves, on an address the policy allows, is checked by the server (400), which no schema can say.
Link = Annotated[str, Field(min_length=1, max_length=MAX_URL_LENGTH, pattern=r"^[^\s\x00-\x1f\x7f]+$",
                            examples=["https://www.youtube.com/watch?v=BaW_jenozKc"])]
#: Platforms and collections as the library names them.
PlatformName = Annotated[str, Field(pattern=r"^[a-z0-9_.-]{1,64}$", examples=["youtube"])]
CollectionId = Annotated[str, Field(pattern=r"^[0-9a-f]{12}$")]
ThemeId = Annotated[str, Field(pattern=r"^[0-9a-f]{12}$")]
SpeakerName = Annotated[str, Field(min_length=1, max_length=80, examples=["Ada Lovelace"])]
# {"S1": "Ada", "S2": null}: a video's speaker ids, each with a name, or null (or "") to take the name back
SpeakerId = Annotated[str, Field(pattern=r"^S[0-9]{1,2}$")]
SpeakerNames = Annotated[dict[SpeakerId, Annotated[str, Field(max_length=80)] | None],
                         Field(min_length=1, max_length=32, examples=[{"S1": "Ada Lovelace", "S2": "Grace"}],
                               json_schema_extra={"additionalProperties": False})]


class ThemeName(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=80, examples=["Rooftop gardening"])


class ThemeMerge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into: ThemeId = Field(description="The theme that shows the merged one's videos from now on")
CallbackUrl = Annotated[str | None, Field(min_length=1, max_length=MAX_URL_LENGTH, pattern=r"^[^\s\x00-\x1f\x7f]+$",
                                          description="POSTed the job's JSON when it completes or fails (https, "
                                                      "or http to a host the address policy allows)",
                                          examples=["https://example.com/hooks/video"])]
CollectionLimit = Annotated[int | None, Field(ge=1, le=MAX_PLAYLIST_HARD_CAP,
                                              description="Videos to take from a playlist or channel link")]


class CreateJob(BaseModel):
    # Strict, and no unknown fields: `"force": 0` or a misspelt field is refused (400), not guessed at.
    model_config = ConfigDict(strict=True, extra="forbid")

    url: Link = Field(description="A video link, as pasted on the Submit page. Links to private, loopback or "
                                  "link-local addresses, and sites yt-dlp cannot read, are refused (400)")
    force: bool = Field(False, description="Process again a video already in the library")
    callback_url: CallbackUrl = None
    limit: CollectionLimit = None


class CreateJobs(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    urls: list[Link] = Field(min_length=1, max_length=MAX_LINKS,
                             description="Video links (at most MAX_LINKS_PER_SUBMISSION); one bad link refuses them "
                                         "all, and nothing is stored")
    force: bool = False
    callback_url: CallbackUrl = None
    limit: CollectionLimit = None


Day = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-06-01"])]


class AskFilters(BaseModel):
    """The Search page's filters: which videos a question is asked of."""

    model_config = ConfigDict(extra="forbid")

    platforms: list[PlatformName] = Field(default_factory=list, max_length=50)
    categories: list[Category] = Field(default_factory=list)
    sentiments: list[Literal["positive", "neutral", "negative"]] = Field(default_factory=list)
    date_from: Day | None = Field(None, description="uploaded (or added) on or after")
    date_to: Day | None = Field(None, description="uploaded (or added) on or before")
    themes: list[ThemeId] = Field(default_factory=list, max_length=50, description="only the videos of these themes")
    speaker: SpeakerName | None = Field(None, description="only what this person said (a speaker's name, any case)")


class AskQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, examples=["How much sun do tomatoes need?"])
    job_id: str | None = Field(None, max_length=64, description="Ask one video only")
    collection: CollectionId | None = Field(None, description="Ask the videos of one collection only")
    filters: AskFilters = Field(default_factory=AskFilters)
    limit: int = Field(api.DEFAULT_CITATIONS, ge=1, le=api.MAX_CITATIONS, description="Most moments the answer cites")
    history: list[AskTurn] = Field(default_factory=list, max_length=MAX_ASK_HISTORY,
                                   description="The conversation so far, oldest first: a follow-up question is "
                                               "read with the ones before it")


class FollowSource(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    url: Link = Field(description="A channel, playlist, profile or feed: whatever yt-dlp lists as several videos. "
                                  "One video, or a link that lists none, is refused (400)")
    every_seconds: int = Field(6 * 3600, ge=60, le=365 * 86400,
                               description="How often to look; at least FOLLOW_MIN_INTERVAL_SECONDS (400 below it)")
    new_only: bool = Field(False, description="Only videos uploaded from now on: those listed now are marked as "
                                              "seen, not added")
    callback_url: CallbackUrl = None


class JobList(BaseModel):
    jobs: list[JobView]
    total: int
    limit: int
    offset: int


class Health(BaseModel):
    #: `alive` (asked without a key: the server answers), `ready` or `not ready` (asked with a key).
    status: Literal["alive", "ready", "not ready"]
    library: str | None = None
    queue: str | None = None
    workers: int | None = None
    queued: int | None = None


class ErrorBody(BaseModel):
    error: str


# --- who calls ------------------------------------------------------------------------------------
def _caller(request: Request, write: bool) -> str:
    """Who calls (a digest of the key, for rate limits; never the key), or 401/403."""
    settings = get_settings()
    full, read_only = settings.keys("api_keys"), settings.keys("api_read_keys")
    if not full and not read_only:
        return "local"  # no keys: the API listens on this machine only
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "This API needs a key: send Authorization: Bearer <key>.",
                       {"WWW-Authenticate": "Bearer"})
    may_write = _one_of(token, full)
    may_read = may_write or _one_of(token, read_only)
    if not may_read:
        raise ApiError(401, "Unknown API key.", {"WWW-Authenticate": "Bearer"})
    if write and not may_write:
        raise ApiError(403, "This key may only read (API_READ_KEYS).")
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _one_of(token: str, keys: list[str]) -> bool:
    found = False
    for key in keys:  # every key compared, in constant time each
        found |= hmac.compare_digest(token.encode(), key.encode())
    return found


def reader(request: Request) -> str:
    return _caller(request, write=False)


def writer(request: Request) -> str:
    return _caller(request, write=True)


Reader = Annotated[str, Depends(reader)]
Writer = Annotated[str, Depends(writer)]


def _limit_submissions(caller: str, links: int, settings: Settings) -> None:
    """At most API_RATE_LIMIT links a minute per key, counted in Redis so every API process agrees."""
    from limits import RateLimitItemPerMinute

    item = RateLimitItemPerMinute(settings.api_rate_limit)
    limiter = _limiter(settings.redis_url)
    try:
        allowed = limiter.hit(item, "submissions", caller, cost=links)
        reset = limiter.get_window_stats(item, "submissions", caller).reset_time
    except Exception as exc:  # noqa: BLE001 - Redis unreachable: no submission could be queued either
        raise unavailable(settings, exc) from None
    if not allowed:
        wait = max(1, math.ceil(reset - time.time()))
        raise ApiError(429, f"At most {settings.api_rate_limit} links a minute per key (API_RATE_LIMIT); "
                            f"try again in {wait} s.", {"Retry-After": str(wait)})


@lru_cache(maxsize=4)
def _limiter(redis_url: str):
    from limits import strategies
    from limits.storage import storage_from_string

    return strategies.MovingWindowRateLimiter(storage_from_string(redis_url))


# --- the application ------------------------------------------------------------------------------
@asynccontextmanager
async def _lifespan(_app):
    api.prepare_link_checks()
    api.prepare_search()
    yield


ERRORS = {
    400: "A malformed request, or a link that is invalid, unsupported or refused by the address policy (nothing "
         "is stored)",
    401: "No key, or an unknown one (only when API_KEYS or API_READ_KEYS are set)",
    403: "A read-only key asked to change the library",
    404: "No such job, or nothing of that kind stored for it",
    409: "The job is not in a state that allows it (no transcript yet, a run in the way, the transcript corrected "
         "meanwhile, corrections a reprocess would throw away)",
    413: f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB",
    429: "More links than API_RATE_LIMIT a minute for this key; Retry-After says when to send again",
    502: "A service the app relies on refuses its requests: the object store holding the media (a setting to fix), "
         "or the hosted model writing an answer",
    503: "The queue, the library or the hosted model cannot be reached just now; Retry-After says when to try "
         "again",
}


def answers(*codes: int) -> dict:
    """The error answers an operation can give, each with the one error model."""
    return {code: {"model": ErrorBody, "description": ERRORS[code]} for code in codes}


app = FastAPI(
    lifespan=_lifespan,
    title="Video Insight Studio API",
    summary="Turn video links into transcripts, analyses and searchable moments.",
    version="1.0",
    responses=answers(400, 401, 503),
    # Operation ids are the functions' names: stable, and what links and generated clients call them.
    generate_unique_id_function=lambda route: route.name,
)
JOB = answers(404)
WRITE = answers(403, 404, 409)
SUBMIT = answers(403, 413, 429)


class HeadAsGet:
    """HEAD answers as GET does, headers only (RFC 9110), wherever GET is answered; and a request body larger than
    MAX_BODY_BYTES is refused before it is read (413)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length", b"0")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            return await _error(413, ERRORS[413] + ".")(scope, receive, send)
        if scope["method"] != "HEAD":
            return await self.app(scope, receive, send)
        ended = False

        async def headers_only(message):
            nonlocal ended
            if ended:
                return
            if message["type"] == "http.response.body":
                ended, message = True, {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(dict(scope, method="GET", head=True), receive, headers_only)


app.add_middleware(HeadAsGet)


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


@app.exception_handler(ApiError)
async def _api_error(request, exc: ApiError):
    return _error(exc.status, exc.message, exc.headers)


@app.exception_handler(api.InvalidURL)
async def _invalid(request, exc):
    return _error(400, str(exc))


@app.exception_handler(LookupError)
async def _missing(request, exc):
    return _error(404, str(exc.args[0] if exc.args else exc))


@app.exception_handler(api.QueueUnavailable)
@app.exception_handler(api.LibraryUnavailable)
async def _unavailable(request, exc):
    return _error(503, str(exc), {"Retry-After": "30"})


@app.exception_handler(api.MediaStoreRefused)
async def _media_refused(request, exc):
    return _error(502, str(exc))


@app.exception_handler(api.AskRefused)
@app.exception_handler(api.ThemeRefused)
@app.exception_handler(api.EditRefused)
@app.exception_handler(api.FollowRefused)
@app.exception_handler(api.SpeakerRefused)
async def _refused(request, exc):
    return _error(400, str(exc))


@app.exception_handler(api.EngineError)
async def _engine(request, exc):
    if isinstance(exc, TransientEngineError):
        return _error(503, str(exc), {"Retry-After": "30"})
    return _error(502, str(exc))


@app.exception_handler(api.ReadOnlyLibrary)
async def _read_only(request, exc):
    return _error(403, str(exc))


@app.exception_handler(api.JobBusy)
@app.exception_handler(api.EditConflict)
@app.exception_handler(api.CorrectionsKept)
async def _busy(request, exc):
    return _error(409, str(exc))


@app.exception_handler(RequestValidationError)
async def _malformed(request, exc: RequestValidationError):
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors())
    return _error(400, f"The request is malformed: {problems}")


@app.exception_handler(StarletteHTTPException)
async def _http(request, exc: StarletteHTTPException):
    headers = exc.headers
    if exc.status_code == 405:  # Allow names every method of the path, not only those of the route that matched
        headers = {**(headers or {}), "Allow": ", ".join(_methods_of(request.scope))}
    return _error(exc.status_code, str(exc.detail), headers)


def _methods_of(scope) -> list[str]:
    """The methods of the path the router chose (the first whose template matches, as it routes), over all its
    operations."""
    from starlette.routing import Match

    chosen = next((route.path for route in app.routes if route.matches(dict(scope, type="http"))[0] != Match.NONE),
                  None)
    methods = {method for route in app.routes if getattr(route, "path", None) == chosen
               for method in getattr(route, "methods", None) or ()}
    if "GET" in methods:
        methods.add("HEAD")  # answered as GET is (HeadAsGet)
    return sorted(methods)


@app.exception_handler(Exception)
async def _unexpected(request, exc):
    return _error(500, "Something went wrong on the server; the error is in its log.")


def _job(job_id: str):
    job = api.get_job(job_id)
    if job is None:
        raise LookupError(f"No job {job_id} in the library.")
    return job


@app.post("/jobs/create", status_code=201, response_model=SubmittedJob, tags=["jobs"],
          responses={200: {"model": SubmittedJob, "description": "The video was already in the library"},
                     201: {"description": "A new job; Location names it", "headers": {
                         "Location": {"schema": {"type": "string"}, "description": "/jobs/{job_id}"}}},
                     **SUBMIT})
def create_job(body: CreateJob, response: Response, caller: Writer) -> SubmittedJob:
    """Submit one link: `201` with the new job, or `200` with the job already holding that video. A link is
    refused (400, nothing stored) when it is malformed, names a private, loopback or link-local address, or points
    at a page yt-dlp cannot read."""
    settings = get_settings()
    api.validate_all([body.url], settings)  # a bad link is a 400 whatever the queue's state
    _limit_submissions(caller, 1, settings)
    submission = api.submit(body.url, force=body.force, callback_url=body.callback_url, limit=body.limit)
    response.status_code = 201 if submission.created else 200
    if submission.created:
        response.headers["Location"] = f"/jobs/{submission.job.id}"
    return api.submitted_views([submission])[0]


@app.post("/jobs", status_code=201, response_model=list[SubmittedJob], tags=["jobs"],
          responses={200: {"model": list[SubmittedJob], "description": "Every video was already in the library"},
                     201: {"description": "At least one new job; Location names the first", "headers": {
                         "Location": {"schema": {"type": "string"}, "description": "/jobs/{job_id}"}}},
                     **SUBMIT})
def create_jobs(body: CreateJobs, response: Response, caller: Writer) -> list[SubmittedJob]:
    """Submit many links at once, with the same rules as the Submit page: one refused link refuses them all (400,
    nothing stored)."""
    settings = get_settings()
    api.validate_all(body.urls, settings)
    _limit_submissions(caller, max(1, len(body.urls)), settings)
    submissions = api.submit_many(body.urls, force=body.force, callback_url=body.callback_url, limit=body.limit)
    created = [s for s in submissions if s.created]
    response.status_code = 201 if created else 200
    if created:
        response.headers["Location"] = f"/jobs/{created[0].job.id}"
    return api.submitted_views(submissions)


@app.get("/jobs", response_model=JobList, tags=["jobs"])
def list_jobs(caller: Reader, status: Annotated[list[Stage] | None, Query()] = None,
              collection: Annotated[list[CollectionId] | None, Query()] = None,
              platform: Annotated[list[PlatformName] | None, Query()] = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0)] = 0) -> JobList:
    """The library, newest first, filtered by status and platform (each repeatable), a page at a time."""
    statuses = [stage.value for stage in status] if status else None
    counts = api.status_counts(platforms=platform, collections=collection)
    jobs = api.list_jobs(statuses=statuses, platforms=platform, collections=collection, limit=limit, offset=offset)
    return JobList(jobs=api.job_views(jobs), total=sum(n for s, n in counts.items() if not statuses or s in statuses),
                   limit=limit, offset=offset)


@app.get("/jobs/{job_id}", response_model=JobDetails, response_model_exclude_none=False, tags=["jobs"],
         responses=JOB)
def get_job(job_id: str, caller: Reader, details: bool = False) -> JobView | JobDetails:
    """A job's status, stage, progress, error, stage times and video facts; `details=true` adds its
    transcript, analysis and hosted cost (as `show --json`)."""
    if details:
        found = api.job_details(job_id)
        if found is None:
            raise LookupError(f"No job {job_id} in the library.")
        return found
    return JobDetails.of(_job(job_id), media=api.media_links(job_id))


@app.get("/jobs/{job_id}/transcript", tags=["results"],
         responses={200: {"model": TranscriptView | TranslationView, "content": {
             media: {} for media in api.EXPORT_FORMATS.values() if media != "application/json"}}, **answers(404, 409)})
def get_transcript(job_id: str, caller: Reader,
                   format: Annotated[str, Query(pattern="^(json|srt|vtt|txt|md|chapters)$")] = "json",  # noqa: A002
                   translation: bool = False):
    """The timed transcript as JSON (segments with word times), or as an SRT, VTT, TXT or Markdown file (with chapter
    headings), or the video's chapters as a WebVTT chapters file (`format=chapters`, 409 when it has none);
    `translation=true` gives its translation into TRANSLATE_TO instead (409 when the video has none)."""
    job = _job(job_id)
    if format == "json":
        found = api.translation(job_id) if translation else api.transcript(job_id)
        if found is None:
            what = "translation" if translation else "transcript"
            raise ApiError(409, f"Job {job_id} has no {what} ({job.status.value}).")
        return JSONResponse(found.model_dump(mode="json", exclude=NOT_EXPORTED))
    try:
        name, content = api.export(job_id, format, translated=translation)
    except LookupError as exc:
        raise ApiError(409, str(exc)) from None
    return PlainTextResponse(content, media_type=api.EXPORT_FORMATS[format],
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


MEDIA_ANSWERS = {307: {"description": "Redirect to the stored copy (a presigned or signed URL, valid for an hour)"},
                 206: {"description": "The part of the file a Range header asked for"}, **answers(404)}


def _stored_media(job_id: str, kind: str) -> Response:
    """The stored file itself (ranges supported, for seeking), or a redirect to where the object store serves it."""
    from fastapi.responses import FileResponse, RedirectResponse

    job = _job(job_id)
    where = api.stored_media(job_id, kind)
    if where is None:
        removed = kind == "audio" and (audio := api.audio_file(job_id)) is not None and audio.audio_removed_at
        raise LookupError(f"Job {job_id} has no stored {kind}" + (
            f": it was removed on {audio.audio_removed_at[:10]} (AUDIO_RETENTION_DAYS)." if removed
            else f" ({job.status.value})."))
    if isinstance(where, str):
        return RedirectResponse(where, status_code=307)
    return FileResponse(where, media_type=api.media_type(where.name))


@app.get("/jobs/{job_id}/audio", tags=["results"], responses={200: {"content": {"audio/mpeg": {}, "audio/mp4": {}}},
                                                             **MEDIA_ANSWERS})
def get_audio(job_id: str, caller: Reader) -> Response:
    """The stored audio, for a player: the file (with range requests), or a redirect to its presigned URL."""
    return _stored_media(job_id, "audio")


@app.get("/jobs/{job_id}/thumbnail", tags=["results"], responses={200: {"content": {"image/jpeg": {}}},
                                                                 **MEDIA_ANSWERS})
def get_thumbnail(job_id: str, caller: Reader) -> Response:
    """The stored thumbnail: the file, or a redirect to its presigned URL."""
    return _stored_media(job_id, "thumbnail")


@app.get("/jobs/{job_id}/analysis", response_model=Analysis, tags=["results"], responses=answers(404, 409))
def get_analysis(job_id: str, caller: Reader) -> Analysis:
    """Summary, topics, sentiment (overall and per segment), category and language."""
    job = _job(job_id)
    found = api.analysis(job_id)
    if found is None:
        raise ApiError(409, f"Job {job_id} has no analysis yet ({job.status.value}).")
    return found


@app.get("/jobs/{job_id}/events", tags=["jobs"],
         responses={200: {"content": {"text/event-stream": {}},
                          "description": "One `job` event per change of stage or progress, the last one final"},
                    **JOB})
async def job_events(job_id: str, caller: Reader, request: Request):
    """Live status without polling: Server-Sent Events, each the job's JSON, ending with its final state."""
    from sse_starlette.sse import EventSourceResponse

    await asyncio.to_thread(_job, job_id)  # 404 before the stream starts
    if request.scope.get("head"):  # headers only: no stream to keep open
        return Response(media_type="text/event-stream")

    def look(seen: tuple | None) -> tuple[tuple, str | None, bool] | None:
        """The job's state, its JSON when the state changed since `seen`, and whether it ended; None once deleted.
        Every read of the library happens here, in a thread, never on the event loop other requests share."""
        job = api.get_job(job_id)
        if job is None:
            return None
        state = (job.status, job.stage, round(job.progress, 2), job.progress_detail, job.error)
        return state, api.job_views([job])[0].model_dump_json() if state != seen else None, job.is_final

    async def events():
        seen = None
        while True:
            found = await asyncio.to_thread(look, seen)
            if found is None:
                yield {"event": "deleted", "data": "{}"}
                return
            seen, data, final = found
            if data is not None:
                yield {"event": "job", "data": data}
            if final:
                return
            await asyncio.sleep(EVENT_POLL_SECONDS)

    return EventSourceResponse(events(), ping=15)


@app.get("/search", response_model=list[SearchHit], tags=["results"],
         responses={404: {"model": ErrorBody, "description": "No such theme"}})
def search(caller: Reader,
           q: Annotated[str, Query(min_length=1, max_length=1000, description="What to find, in any words",
                                   examples=["how to water a roof garden"])],
           limit: Annotated[int, Query(ge=1, le=100)] = 10,
           platform: Annotated[list[PlatformName] | None, Query()] = None,
           category: Annotated[list[Category] | None, Query()] = None,
           sentiment: Annotated[list[Literal["positive", "neutral", "negative"]] | None, Query()] = None,
           date_from: Annotated[str | None, Query(alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
           date_to: Annotated[str | None, Query(alias="to", pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
           theme: Annotated[list[ThemeId] | None, Query(description="only the videos of these themes")] = None,
           speaker: Annotated[list[SpeakerName] | None, Query(description="only what these people said")] = None,
           ) -> list[SearchHit]:
    """Moments across the library by meaning (and the query's own words), with the Search page's filters."""
    return api.search(q, limit=limit, filters=SearchFilters(
        platforms=platform or [], categories=category or [], sentiments=sentiment or [], date_from=date_from,
        date_to=date_to, themes=theme or [], speakers=speaker or []))


@app.post("/ask", response_model=Answer, tags=["results"], responses=answers(404, 502))
def ask(body: AskQuestion, caller: Reader) -> Answer:
    """Ask the library (a video, a collection, the videos the filters keep) a question. The answer cites the moments
    it comes from, each a real one; when nothing there answers, `supported` is false, `answer` says so and there
    are no citations. Offline the answer quotes the transcripts' own sentences (`engine` `local:extractive`); with
    a hosted model (ASK_ENGINE) the model writes it from the moments found, and citations it invents are dropped.
    An unknown video or collection is 404; a question that is empty, or asked of an empty library, 400."""
    filters = body.filters
    return api.ask(body.question, limit=body.limit, history=body.history, filters=SearchFilters(
        platforms=filters.platforms, categories=filters.categories, sentiments=filters.sentiments,
        date_from=filters.date_from, date_to=filters.date_to, job_ids=[body.job_id] if body.job_id else [],
        collections=[body.collection] if body.collection else [], themes=filters.themes,
        speakers=[filters.speaker] if filters.speaker else []))


@app.get("/topics", response_model=list[ThemeView], tags=["results"])
def list_topics(caller: Reader) -> list[ThemeView]:
    """The library's themes: its videos grouped by what they are about (from their vectors) and named from their
    words, the largest first. Workers group the library again after videos complete; a theme keeps its id while
    most of its videos stay together."""
    return api.themes()


@app.patch("/topics/{theme_id}", response_model=ThemeView, tags=["results"], responses=answers(403, 404))
def rename_topic(theme_id: str, body: ThemeName, caller: Writer) -> ThemeView:
    """Give a theme a name of your own, kept from then on (400 when another theme has it)."""
    return api.rename_theme(theme_id, body.label)


@app.post("/topics/{theme_id}/merge", response_model=ThemeView, tags=["results"], responses=answers(403, 404))
def merge_topic(theme_id: str, body: ThemeMerge, caller: Writer) -> ThemeView:
    """Show a theme's videos inside another from now on; answers the theme they are now in."""
    return api.merge_themes(theme_id, body.into)


@app.post("/jobs/{job_id}/retry", response_model=JobView, tags=["jobs"], responses=WRITE)
def retry(job_id: str, caller: Writer) -> JobView:
    """Queue a failed job again; it resumes from the stage that failed."""
    return api.job_views([api.retry(job_id)])[0]


@app.post("/jobs/{job_id}/reprocess", response_model=JobView, tags=["jobs"], responses=WRITE | answers(502))
def reprocess(job_id: str, caller: Writer, discard_corrections: bool = False) -> JobView:
    """Forget a video's results and run the whole pipeline again (stopping its run first). A transcript someone
    corrected is kept (409) unless `discard_corrections=true`."""
    return api.job_views([api.reprocess(job_id, discard_corrections=discard_corrections)])[0]


class SegmentText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=MAX_SEGMENT_CHARS, description="The line's corrected text; its times are kept")
    base_revision: int | None = Field(None, ge=0, description="The revision the correction was made from (409 when "
                                                              "the transcript has moved on); none: the latest")
    allow_empty: bool = Field(False, description="Let the text be empty, removing the line's words")


class Undo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_revision: int | None = Field(None, ge=0)


class Replace(BaseModel):
    model_config = ConfigDict(extra="forbid")

    old: str = Field(min_length=1, max_length=200, description="A word or phrase (whole words, any case)")
    new: str = Field(max_length=MAX_SEGMENT_CHARS)
    apply: bool = Field(False, description="Change the lines (one correction); false: only say which would change")
    base_revision: int | None = Field(None, ge=0)


class Replacement(BaseModel):
    changes: list[SegmentChange]
    #: The correction made, with `apply`; null for a preview.
    edit: Edit | None = None


def _by(caller: str) -> str | None:
    return None if caller == "local" else f"key {caller[:8]}"


@app.patch("/jobs/{job_id}/segments/{index}", response_model=Edit, tags=["corrections"],
           responses=WRITE)
def edit_segment(job_id: str, index: int, body: SegmentText, caller: Writer) -> Edit:
    """Correct one line of a transcript (lines from 0). Search, the analysis and the exports follow at once. 409 when
    `base_revision` is no longer the latest: someone corrected the transcript meanwhile, and nothing is changed."""
    return api.edit_segment(job_id, index, body.text, base_revision=body.base_revision, by=_by(caller),
                            allow_empty=body.allow_empty)


@app.get("/jobs/{job_id}/speakers", response_model=list[SpeakerView], tags=["speakers"], responses=JOB)
def list_speakers(job_id: str, caller: Reader) -> list[SpeakerView]:
    """The voices in a video, in the order they first speak, with their names and talk time (empty for one voice,
    creator captions, or a video still being processed)."""
    return [SpeakerView.model_validate(speaker.public_dict()) for speaker in api.speakers(job_id)]


@app.patch("/jobs/{job_id}/speakers", response_model=list[SpeakerView], tags=["speakers"], responses=WRITE)
def name_speakers(job_id: str, body: SpeakerNames, caller: Writer) -> list[SpeakerView]:
    """Name a video's speakers: `{"S1": "Ada", "S2": "Grace"}`; an empty name or null takes a name back. 400 for a
    speaker the video does not have."""
    return [SpeakerView.model_validate(speaker.public_dict()) for speaker in api.name_speakers(job_id, body)]


@app.get("/voices", response_model=list[VoiceView], tags=["speakers"])
def list_voices(caller: Reader) -> list[VoiceView]:
    """The people the library knows by voice (named in some video): their videos and talk time, the most heard
    first. A new video's speaker who sounds like one of them gets their name as `suggested_name`."""
    return api.voices()


@app.get("/jobs/{job_id}/edits", response_model=list[Edit], tags=["corrections"], responses=JOB)
def list_edits(job_id: str, caller: Reader) -> list[Edit]:
    """Every correction of a transcript: when, by which key, before and after, revision."""
    return api.edit_history(job_id)


@app.post("/jobs/{job_id}/edits/undo", response_model=Edit, tags=["corrections"], responses=WRITE)
def undo_edit(job_id: str, body: Undo, caller: Writer) -> Edit:
    """Take back the latest correction not taken back yet (itself kept as a correction)."""
    return api.undo(job_id, base_revision=body.base_revision, by=_by(caller))


@app.post("/jobs/{job_id}/edits/replace", response_model=Replacement, tags=["corrections"], responses=WRITE)
def replace_in_transcript(job_id: str, body: Replace, caller: Writer) -> Replacement:
    """Replace a word or phrase misheard everywhere in one transcript: the lines that would change, and with
    `apply` the correction that changed them."""
    changes, edit = api.replace_words(job_id, body.old, body.new, apply=body.apply, base_revision=body.base_revision,
                                      by=_by(caller))
    return Replacement(changes=changes, edit=edit)


@app.post("/jobs/{job_id}/cancel", response_model=JobView, tags=["jobs"], responses=WRITE)
def cancel(job_id: str, caller: Writer) -> JobView:
    """Stop a waiting or running job; it ends failed, "Cancelled", and retry resumes it."""
    return api.job_views([api.cancel(job_id)])[0]


@app.delete("/jobs/{job_id}", status_code=204, tags=["jobs"], responses=WRITE | answers(502))
def delete(job_id: str, caller: Writer) -> Response:
    """Remove a job and everything stored for it."""
    _job(job_id)
    api.delete(job_id)
    return Response(status_code=204)


@app.post("/follows", status_code=201, response_model=FollowView, tags=["follows"],
          responses={200: {"model": FollowView, "description": "The source was followed already"},
                     201: {"description": "Followed; its first check has run", "headers": {
                         "Location": {"schema": {"type": "string"}, "description": "/follows/{follow_id}"}}},
                     **answers(403)})
def create_follow(body: FollowSource, response: Response, caller: Writer) -> FollowView:
    """Follow a channel, playlist, profile or feed: its first check runs now (the videos it lists are added, or with
    `new_only` marked as seen), then a worker checks it every `every_seconds` and adds what is new to its collection.
    A link on a private, loopback or link-local address is refused like a video link."""
    followed, created = api.follow(body.url, every=body.every_seconds, new_only=body.new_only,
                                   callback_url=body.callback_url)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/follows/{followed.id}"
    return FollowView.of(followed)


@app.get("/follows", response_model=list[FollowView], tags=["follows"])
def list_follows(caller: Reader) -> list[FollowView]:
    """The followed sources, with their last check, next check, videos added and last error."""
    return api.follows()


@app.post("/follows/{follow_id}/check", response_model=FollowView, tags=["follows"], responses=answers(403, 404))
def check_follow(follow_id: str, caller: Writer) -> FollowView:
    """Check a followed source now rather than at its time (a worker does it in a moment)."""
    return FollowView.of(api.check_follow_now(follow_id))


@app.delete("/follows/{follow_id}", status_code=204, tags=["follows"], responses=answers(403, 404))
def delete_follow(follow_id: str, caller: Writer) -> Response:
    """Stop following a source; the videos it added stay in the library."""
    api.unfollow(follow_id)
    return Response(status_code=204)


@app.get("/health", response_model=Health, tags=["service"],
         responses={503: {"model": Health, "description": "Not ready: the library or the queue cannot be reached"}})
def health(request: Request) -> JSONResponse:
    """Liveness without a key: `{"status": "alive"}` whenever the server answers; what a load balancer's or an
    orchestrator's liveness probe should ask. Readiness with a key (a read key is enough; none is needed when the
    API has no keys): whether the library and the queue answer, how many workers serve the queue and how many jobs
    wait, `503` with Retry-After while either cannot be reached; what a readiness probe should ask."""
    try:
        _caller(request, write=False)
    except ApiError:
        return JSONResponse(Health(status="alive").model_dump())
    library = api.library_problem()
    try:
        status = api.queue_status()
        queue, workers, queued = "ok", status.workers, status.queued
    except api.QueueUnavailable as exc:
        queue, workers, queued = str(exc), None, None
    ready = not library and queue == "ok"
    body = Health(status="ready" if ready else "not ready", library=library or "ok", queue=queue, workers=workers,
                  queued=queued)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503,
                        headers=None if ready else {"Retry-After": "30"})


def _described(schema: dict) -> dict:
    """The generated schema, made to say what the server does: malformed requests are 400 (FastAPI would list a
    422 the server never sends), and a created job links to every operation that takes its id, so schema-driven
    clients and fuzzers can walk from it to its results."""
    by_job = [operation["operationId"] for item in schema["paths"].values() for operation in item.values()
              if any(p["name"] == "job_id" and p["in"] == "path" for p in operation.get("parameters", []))]
    for item in schema["paths"].values():
        for operation in item.values():
            operation["responses"].pop("422", None)
    sources = (("create_job", "$response.body#/job_id"), ("create_jobs", "$response.body#/0/job_id"),
               ("list_jobs", "$response.body#/jobs/0/id"))
    for operation_id, pointer in sources:
        operation = next(op for item in schema["paths"].values() for op in item.values()
                         if op["operationId"] == operation_id)
        links = {target: {"operationId": target, "parameters": {"job_id": pointer}} for target in by_job}
        for code in ("200", "201"):
            if code in operation["responses"]:
                operation["responses"][code]["links"] = links
    for unused in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(unused, None)
    return schema


def _openapi() -> dict:
    if app.openapi_schema is None:
        app.openapi_schema = _described(FastAPI.openapi(app))
    return app.openapi_schema


app.openapi = _openapi
