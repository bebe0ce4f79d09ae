"""The pipeline's steps, declared once, in the order they run.

A step is a `Stage` (core.models: the job's status while it runs, with its label and icon), the function that does
it, and the check that tells it is done; an optional step also names the check that a job needs it at all. The
progress bar, stage timestamps, resume after a failure, the pages' labels and the CLI's choices come from `Stage`;
the runner (core.pipeline.runner) goes through this list, skipping what is done. Adding a step is one module in
core/pipeline/steps/, one line here and its member in `Stage`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.models import Stage
from core.pipeline.steps import analyzing, diarizing, fetch, indexing, transcribing, translating
from core.pipeline.steps.context import JobContext


@dataclass(frozen=True)
class Step:
    #: The job's status while the step runs, and the key of its start time in `stage_times`.
    status: Stage
    #: Does the step, leaving its output in the store or the job's work dir.
    perform: Callable[[JobContext], None]
    #: Tells from that output whether the step is done (a resumed job skips it).
    is_done: Callable[[JobContext], bool]
    #: For an optional step: whether a job needs it; the others skip it.
    is_wanted: Callable[[JobContext], bool] | None = None


STEPS: tuple[Step, ...] = (
    Step(Stage.DOWNLOADING, fetch.download, fetch.downloaded),
    Step(Stage.EXTRACTING_AUDIO, fetch.extract_audio, fetch.audio_extracted),
    Step(Stage.UPLOADING, fetch.upload, fetch.uploaded),
    Step(Stage.TRANSCRIBING, transcribing.transcribe, transcribing.transcribed),
    Step(Stage.DIARIZING, diarizing.find_speakers, diarizing.diarized, is_wanted=diarizing.needs_speakers),
    Step(Stage.TRANSLATING, translating.translate, translating.translated, is_wanted=translating.needs_translation),
    Step(Stage.ANALYZING, analyzing.analyze, analyzing.analyzed),
    Step(Stage.GENERATING_EMBEDDINGS, indexing.embed, indexing.embedded),
    Step(Stage.STORING, indexing.store_vectors, indexing.stored),
)
