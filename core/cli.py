"""Command line: `python -m core --help`."""

from __future__ import annotations

import argparse
import json
import sys

from pydantic import BaseModel

from core import api
from core.access import api_address
from core.config import get_settings
from core.formatting import NO_WORKER, clock, interval, waiting_hint
from core.jobs import retention
from core.jobs.workers import run_worker
from core.library.exports import FORMATS
from core.models import CATEGORIES, Job, SearchFilters, Stage
from core.pipeline import run_now

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def _print_job(job: Job, workers: int | None = None) -> None:
    line = f"{job.id}  {job.status.value:<22} {job.platform:<10} {job.video_id:<16} {job.title or job.url}"
    if job.status == Stage.FAILED:
        line += f"\n    failed while {job.stage.label.lower()}: {job.error}"
    elif not job.is_final:
        if job.progress_detail:
            line += f"\n    {job.progress_detail}"
        hint = waiting_hint(job, workers=workers)
        if hint and hint != NO_WORKER:
            line += f"\n    {hint}"
    print(line)


def _workers_or_none() -> int | None:
    try:
        return api.queue_status().workers
    except api.QueueUnavailable:
        return None


def _print_json(models: list[BaseModel] | BaseModel) -> None:
    data = ([m.model_dump(mode="json") for m in models] if isinstance(models, list)
            else models.model_dump(mode="json"))
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _finish(jobs: list[Job], as_json: bool, failed_is_error: bool = True) -> int:
    if as_json:
        _print_json(api.job_views(jobs))
    else:
        for job in jobs:
            _print_job(job)
    return EXIT_FAILED if failed_is_error and any(j.status == Stage.FAILED for j in jobs) else EXIT_OK


def cmd_submit(args) -> int:
    submissions = api.submit_many(args.urls, force=args.force, limit=args.limit)
    for summary in api.collection_summaries(submissions):
        print(summary, file=sys.stderr)
    for s in submissions:
        if not s.created and not args.json:
            print(f"already in the library: {s.job.id} ({s.job.status.value}); use --force to process it again",
                  file=sys.stderr)
    jobs = [s.job for s in submissions]
    if args.wait:
        jobs = api.wait([j.id for j in jobs], timeout=args.timeout)
    if args.json:  # as POST /jobs answers: each job, with whether it was created
        _print_json(api.submitted_views(submissions, jobs))
        return EXIT_FAILED if any(j.status == Stage.FAILED for j in jobs) else EXIT_OK
    return _finish(jobs, as_json=False)


def cmd_run(args) -> int:
    return _finish([run_now(args.url, force=args.force)], args.json)


def cmd_jobs(args) -> int:
    jobs = api.list_jobs(statuses=[args.status] if args.status else None,
                         collections=[args.collection] if args.collection else None)
    if args.json:
        _print_json(api.job_views(jobs))
        return EXIT_OK
    waiting = [job for job in jobs if not job.is_final]
    workers = _workers_or_none() if waiting else None
    for job in jobs:
        _print_job(job, workers)
    if waiting and workers == 0:
        print(f"\n{len(waiting)} job(s) waiting. {NO_WORKER}", file=sys.stderr)
    elif waiting and workers is None:
        print(f"\n{len(waiting)} job(s) waiting, and the job queue cannot be reached: start Redis "
              "(scripts/run.sh does) or check REDIS_URL.", file=sys.stderr)
    return EXIT_OK


def cmd_show(args) -> int:
    details = api.job_details(args.job_id)
    if details is None:
        print(f"No job {args.job_id} in the library.", file=sys.stderr)
        return EXIT_INVALID
    if args.json:
        _print_json(details)
        return EXIT_OK
    job = api.get_job(args.job_id)
    _print_job(job)
    if job.chapters:
        print("\nChapters:")
        for chapter in job.chapters:
            print(f"  [{clock(chapter.start)}] {chapter.title}")
    if details.analysis:
        a = details.analysis
        print(f"\nSummary: {a.summary}\nTopics: {', '.join(a.topics)}\n"
              f"Sentiment: {a.sentiment.label} ({a.sentiment.score:+.2f})  Category: {a.category}")
    names = {speaker.id: speaker.name or speaker.id for speaker in details.speakers}
    if details.speakers:
        print("\nSpeakers: " + ", ".join(f"{names[s.id]} {clock(s.seconds)}" for s in details.speakers))
    if details.transcript:
        translated = details.translation.segments if details.translation else []
        heading = f" with its translation into {details.translation.language}" if details.translation else ""
        print(f"\nTranscript ({details.transcript.language}){heading}:")
        for index, s in enumerate(details.transcript.segments):
            said_by = f"{names.get(s.speaker, s.speaker)}: " if s.speaker else ""
            print(f"  [{clock(s.start)} - {clock(s.end)}] {said_by}{s.text}")
            if index < len(translated):
                print(f"  {'':>14}{translated[index].text}")
    return EXIT_OK


def cmd_search(args) -> int:
    filters = SearchFilters(platforms=args.platform or [], categories=args.category or [],
                            sentiments=args.sentiment or [], date_from=args.date_from, date_to=args.date_to,
                            themes=args.theme or [], speakers=args.speaker or [])
    hits = api.search(args.query, limit=args.limit, filters=filters)
    if args.json:
        _print_json(hits)
    else:
        for h in hits:
            print(f"{h.score:.3f}  {h.job_id}  {clock(h.start)}  {h.title or h.video_id}  [{h.language or '?'}]\n"
                  f"        {h.speaker + ': ' if h.speaker else ''}{h.text}")
            if h.translation:
                print(f"        {h.translation}")
    return EXIT_OK


def cmd_ask(args) -> int:
    filters = SearchFilters(platforms=args.platform or [], categories=args.category or [],
                            date_from=args.date_from, date_to=args.date_to, job_ids=args.video or [],
                            collections=args.collection or [], themes=args.theme or [], speakers=args.speaker or [])
    answer = api.ask(args.question, limit=args.limit, filters=filters)
    if args.json:
        _print_json(answer)
        return EXIT_OK
    print(answer.answer)
    if answer.citations:
        print()
    for c in answer.citations:
        print(f"[{c.number}] {c.title or c.video_id} at {clock(c.start)}  {c.url}\n    {c.text}")
        if c.original:
            print(f"    ({c.original})")
    if answer.usage and answer.usage.cost_usd is not None:
        print(f"\n{answer.engine}: {answer.usage.input_tokens} + {answer.usage.output_tokens} tokens, "
              f"${answer.usage.cost_usd:.4f}")
    return EXIT_OK


def cmd_topics(args) -> int:
    if args.rename:
        api.rename_theme(*args.rename)
    if args.merge:
        api.merge_themes(*args.merge)
    found = api.refresh_themes() if args.refresh else api.themes()
    if args.json:
        _print_json(found)
        return EXIT_OK
    if not found:
        print("No themes yet: they are found once videos have completed (a worker groups the library after each).")
    for theme in found:
        print(f"{theme.id}  {theme.videos:4d} video{'s' if theme.videos != 1 else ' '}  {theme.label}\n"
              f"      {', '.join(theme.keywords)}")
    return EXIT_OK


def cmd_follow(args) -> int:
    if args.list or not args.url:
        found = api.follows()
        if args.json:
            _print_json(found)
            return EXIT_OK
        if not found:
            print("Nothing is followed. `python -m core follow URL` follows a channel, playlist, profile or feed.")
        for f in found:
            checked = f.last_checked_at[:16].replace("T", " ") if f.last_checked_at else "never"
            print(f"{f.id}  {f.status:<8} every {interval(f.every_seconds):<7} {f.videos_added:4d} added  "
                  f"{f.title or f.url}\n    last check {checked}, next {f.next_check_at[:16].replace('T', ' ')}"
                  + (f"\n    {f.last_error}" if f.last_error else ""))
        return EXIT_OK
    every = api.every_seconds(args.every) if args.every else None
    followed, created = api.follow(args.url, every=every, new_only=args.new_only)
    view = api.FollowView.of(followed)
    if args.json:
        _print_json(view)
    else:
        taken = "marked as seen (only new uploads will be added)" if followed.new_only and created else "added"
        next_check = followed.next_check_at[:16].replace("T", " ")
        print(f"{'Following' if created else 'Already following'} {followed.title or followed.url} ({followed.id}): "
              f"{len(followed.seen)} videos listed, {followed.videos_added} {taken if created else 'added so far'}; "
              f"checked every {interval(followed.every_seconds)}, next at {next_check} UTC.")
    return EXIT_OK


def cmd_unfollow(args) -> int:
    api.unfollow(args.follow_id)
    print(f"No longer following {args.follow_id}; the videos it added stay in the library.")
    return EXIT_OK


def _print_changes(changes) -> None:
    for change in changes:
        print(f"  line {change.index}:\n    - {change.before}\n    + {change.after}")


def cmd_edit(args) -> int:
    if args.history:
        found = api.edit_history(args.job_id)
        if args.json:
            _print_json(found)
            return EXIT_OK
        if not found:
            print("No corrections yet.")
        for edit in found:
            state = " (taken back)" if edit.undone else f" (takes back {edit.undoes})" if edit.undoes else ""
            print(f"revision {edit.revision}  {edit.at[:19].replace('T', ' ')}  {edit.kind}{state}"
                  + (f"  by {edit.by}" if edit.by else ""))
            _print_changes(edit.changes)
        return EXIT_OK
    if args.undo:
        edit = api.undo(args.job_id, base_revision=args.base_revision)
    elif args.replace:
        changes, edit = api.replace_words(args.job_id, *args.replace, apply=args.apply,
                                          base_revision=args.base_revision)
        if not changes:
            print(f"No line holds “{args.replace[0]}”.")
            return EXIT_OK
        if edit is None:
            if args.json:
                _print_json(changes)
            else:
                print(f"{len(changes)} line{'s' if len(changes) != 1 else ''} would change (--apply to change them):")
                _print_changes(changes)
            return EXIT_OK
    else:
        if args.index is None or args.text is None:
            print("Say which line and its new text (edit JOB_ID SEGMENT_INDEX \"text\"), or --history, --undo or "
                  "--replace OLD NEW.", file=sys.stderr)
            return EXIT_INVALID
        edit = api.edit_segment(args.job_id, args.index, args.text, base_revision=args.base_revision,
                                allow_empty=args.allow_empty)
    if args.json:
        _print_json(edit)
    else:
        print(f"Revision {edit.revision}: {edit.kind}")
        _print_changes(edit.changes)
    return EXIT_OK


def cmd_reprocess(args) -> int:
    for job_id in args.job_ids:
        _print_job(api.reprocess(job_id, discard_corrections=args.discard_corrections))
    return EXIT_OK


def cmd_speakers(args) -> int:
    if args.set:
        found = api.name_speakers(args.job_id, api.parse_names(args.set))
    else:
        found = api.speakers(args.job_id)
    if args.json:
        print(json.dumps([speaker.public_dict() for speaker in found], ensure_ascii=False))
        return EXIT_OK
    if not found:
        transcript = api.transcript(args.job_id)
        print(transcript.speakers_note if transcript and transcript.speakers_note
              else "No speakers found in this video (yet).")
    for speaker in found:
        suggestion = f"  (sounds like {speaker.suggested_name}?)" if speaker.suggested_name and not speaker.name else ""
        print(f"{speaker.id:<4} {speaker.name or '-':<30} {clock(speaker.seconds):>8}{suggestion}")
    return EXIT_OK


def cmd_voices(args) -> int:
    if args.forget:
        count = api.forget_voice(args.forget)
        print(f"Forgot the voice print of {args.forget} (from {count} video{'s' if count != 1 else ''}); "
              "the names given in videos stay.")
        return EXIT_OK
    people = api.voices()
    if args.json:
        _print_json(people)
        return EXIT_OK
    if not people:
        print("No voices known yet: name a video's speakers (speakers JOB_ID --set S1=NAME).")
    for person in people:
        videos = f"{person.videos} video{'s' if person.videos != 1 else ''}"
        print(f"{person.name:<30} {videos:>10} {clock(person.seconds):>9}")
    return EXIT_OK


def cmd_vocabulary(args) -> int:
    if args.set is not None or args.add:
        words = api.set_vocabulary(args.collection_id, args.add or args.set, add=bool(args.add))
    else:
        words = api.vocabulary(args.collection_id)
    if args.json:
        print(json.dumps(words, ensure_ascii=False))
    else:
        print(", ".join(words) if words else "No words yet: --set \"Ada Lovelace, Babbage\" adds some.")
    return EXIT_OK


def cmd_export(args) -> int:
    name, content = api.export(args.job_id, args.format, translated=args.translation)
    if args.output == "-":
        sys.stdout.write(content)
    else:
        target = args.output or name
        with open(target, "w", encoding="utf-8") as out:
            out.write(content)
        print(target)
    return EXIT_OK


def cmd_reindex(args) -> int:
    count = api.reindex(progress=lambda done, total: print(f"re-embedded {done} of {total}", file=sys.stderr),
                        every=args.all)
    print(f"{count} videos re-embedded with the current embedding model")
    return EXIT_OK


def cmd_retry(args) -> int:
    return _finish([api.retry(job_id) for job_id in args.job_ids], args.json)


def cmd_cancel(args) -> int:
    return _finish([api.cancel(job_id) for job_id in args.job_ids], args.json, failed_is_error=False)


def cmd_delete(args) -> int:
    for job_id in args.job_ids:
        api.delete(job_id)
    return EXIT_OK


def cmd_serve(args) -> int:
    import uvicorn  # loaded only to serve

    settings = get_settings()
    host, note = api_address(args.host, bool(settings.keys("api_keys") or settings.keys("api_read_keys")))
    print(f"{note}\nVideo Insight Studio API on http://{host}:{args.port} (documentation: /docs)", flush=True)
    uvicorn.run("core.server:app", host=host, port=args.port, log_level="info")
    return EXIT_OK


def cmd_cleanup(args) -> int:
    days = get_settings().audio_retention_days
    if not days:
        print("AUDIO_RETENTION_DAYS is not set: audio is kept for ever, nothing to clean up.")
        return EXIT_OK
    print(f"removed the stored audio of {retention.cleanup()} videos older than {days:g} days")
    return EXIT_OK


def cmd_worker(args) -> int:
    run_worker(burst=args.burst)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Video Insight Studio from the command line.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("submit", help="validate links and queue them for the worker")
    p.add_argument("urls", nargs="+", metavar="URL")
    p.add_argument("--wait", action="store_true", help="wait until every job completed or failed")
    p.add_argument("--timeout", type=float, default=None, help="seconds to wait at most (with --wait)")
    p.add_argument("--force", action="store_true", help="process again videos already in the library")
    p.add_argument("--limit", type=int, metavar="N",
                   help="videos to take from a playlist, channel or multi-video page (default MAX_PLAYLIST_ITEMS)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("run", help="run the whole pipeline for one link in this process (no Redis needed)")
    p.add_argument("url", metavar="URL")
    p.add_argument("--force", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("jobs", help="list the library")
    p.add_argument("--status", choices=[s.value for s in Stage])
    p.add_argument("--collection", metavar="ID", help="only the videos of this collection (playlist, channel...)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_jobs)

    p = sub.add_parser("show", help="a job with its transcript and analysis")
    p.add_argument("job_id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("search", help="find moments by meaning across the library")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--platform", action="append", help="only this platform (repeatable)")
    p.add_argument("--category", action="append", choices=sorted(CATEGORIES), help="only this category (repeatable)")
    p.add_argument("--sentiment", action="append", choices=["positive", "neutral", "negative"])
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="uploaded (or added) on or after")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="uploaded (or added) on or before")
    p.add_argument("--theme", action="append", metavar="THEME_ID", help="only the videos of this theme (`topics`)")
    p.add_argument("--speaker", action="append", metavar="NAME", help="only what this person said (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="ask the library a question: the answer cites the moments it comes from")
    p.add_argument("question")
    p.add_argument("--limit", type=int, default=api.DEFAULT_CITATIONS, help="most moments the answer cites")
    p.add_argument("--video", action="append", metavar="JOB_ID", help="only this video (repeatable)")
    p.add_argument("--collection", action="append", metavar="ID", help="only the videos of this collection")
    p.add_argument("--platform", action="append", help="only this platform (repeatable)")
    p.add_argument("--category", action="append", choices=sorted(CATEGORIES), help="only this category (repeatable)")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="uploaded (or added) on or after")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="uploaded (or added) on or before")
    p.add_argument("--theme", action="append", metavar="THEME_ID", help="only the videos of this theme (`topics`)")
    p.add_argument("--speaker", action="append", metavar="NAME", help="only what this person said (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("topics", help="the library's themes: its videos grouped by what they are about")
    p.add_argument("--rename", nargs=2, metavar=("THEME_ID", "NAME"), help="give a theme a name of your own")
    p.add_argument("--merge", nargs=2, metavar=("THEME_ID", "INTO_ID"), help="show one theme inside another")
    p.add_argument("--refresh", action="store_true", help="group the library again now (workers do it after "
                                                            "each completed video)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser("follow", help="follow a channel, playlist, profile or feed: its new videos are added as "
                                      "they appear (needs a worker)")
    p.add_argument("url", nargs="?")
    p.add_argument("--every", metavar="INTERVAL", help="how often to look, in s, m, h or d (default 6h; at least "
                                                       "FOLLOW_MIN_INTERVAL_SECONDS)")
    p.add_argument("--new-only", action="store_true", help="only videos uploaded from now on: those listed now are "
                                                           "marked as seen, not added")
    p.add_argument("--list", action="store_true", help="the follows, with their last and next checks")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_follow)

    p = sub.add_parser("unfollow", help="stop following a source (its videos stay)")
    p.add_argument("follow_id", metavar="ID")
    p.set_defaults(func=cmd_unfollow)

    p = sub.add_parser("edit", help="correct a transcript: a line, or a word everywhere; list or take back "
                                    "corrections")
    p.add_argument("job_id")
    p.add_argument("index", nargs="?", type=int, metavar="SEGMENT_INDEX", help="the line to correct (from 0)")
    p.add_argument("text", nargs="?", help="its new text")
    p.add_argument("--allow-empty", action="store_true", help="let the new text be empty (the line's words removed)")
    p.add_argument("--history", action="store_true", help="every correction, with when, by whom, before and after")
    p.add_argument("--undo", action="store_true", help="take back the latest correction")
    p.add_argument("--replace", nargs=2, metavar=("OLD", "NEW"), help="show the lines where OLD would become NEW")
    p.add_argument("--apply", action="store_true", help="with --replace: change them, as one correction")
    p.add_argument("--base-revision", type=int, metavar="N", help="refuse if the transcript is no longer at this "
                                                                  "revision (someone corrected it meanwhile)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_edit)

    p = sub.add_parser("reprocess", help="forget videos' results and run the whole pipeline again")
    p.add_argument("job_ids", nargs="+", metavar="JOB_ID")
    p.add_argument("--discard-corrections", action="store_true",
                   help="also throw away corrections made to their transcripts (refused otherwise)")
    p.set_defaults(func=cmd_reprocess)

    p = sub.add_parser("speakers", help="who speaks in a video, and their names")
    p.add_argument("job_id", metavar="JOB_ID")
    p.add_argument("--set", nargs="+", metavar="S1=NAME", help="name speakers (S1=Ada S2=Grace); S1= takes a name back")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_speakers)

    p = sub.add_parser("voices", help="the people the library knows by voice, with their videos and talk time")
    p.add_argument("--forget", metavar="NAME", help="delete this person's voice print (their names in videos stay)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_voices)

    p = sub.add_parser("vocabulary", help="words and names speech-to-text should expect in a collection's videos")
    p.add_argument("collection_id", metavar="COLLECTION_ID")
    p.add_argument("--set", metavar="WORDS", help="comma-separated words and names, replacing those there ('' clears)")
    p.add_argument("--add", metavar="WORDS", help="comma-separated words and names, added to those there")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_vocabulary)

    p = sub.add_parser("export", help="write a transcript as SRT, VTT, TXT, Markdown or JSON")
    p.add_argument("job_id")
    p.add_argument("--format", choices=list(FORMATS), default="srt")
    p.add_argument("--output", "-o", help="file to write (default: the video's title; - for standard output)")
    p.add_argument("--translation", action="store_true",
                   help="the translation (into TRANSLATE_TO) instead of the transcript as spoken")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("reindex", help="embed again videos embedded with another model (after EMBEDDING_MODEL changed)")
    p.add_argument("--all", action="store_true",
                   help="every completed video (after an upgrade: long videos get their chapters' vectors for themes)")
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("retry", help="queue failed jobs again; they resume where they stopped")
    p.add_argument("job_ids", nargs="+", metavar="JOB_ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_retry)

    p = sub.add_parser("cancel", help="stop waiting or running jobs; they end failed, and retry resumes them")
    p.add_argument("job_ids", nargs="+", metavar="JOB_ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_cancel)

    p = sub.add_parser("delete", help="remove jobs and everything stored for them")
    p.add_argument("job_ids", nargs="+", metavar="JOB_ID")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("serve", help="run the HTTP API (documentation at /docs)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("cleanup", help="remove stored audio older than AUDIO_RETENTION_DAYS (workers do it hourly)")
    p.set_defaults(func=cmd_cleanup)

    p = sub.add_parser("worker", help="run a pipeline worker (same as worker.py)")
    p.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    p.set_defaults(func=cmd_worker)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (api.InvalidURL, api.AskRefused, api.ThemeRefused, api.FollowRefused, api.EditRefused,
            api.SpeakerRefused, api.CorrectionsKept, api.VocabularyTooLong) as exc:
        print(f"Invalid input: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except LookupError as exc:
        print(str(exc.args[0] if exc.args else exc), file=sys.stderr)
        return EXIT_INVALID
    except (api.QueueUnavailable, api.LibraryUnavailable, api.ReadOnlyLibrary, api.JobBusy,
            api.MediaStoreRefused, api.EngineError, api.EditConflict) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED

