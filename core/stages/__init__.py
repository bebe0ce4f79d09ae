"""The pipeline's steps, declared once.

Each entry names the job status the step runs under, how it reads, its icon, the function that does it
and the check that tells it is done (and, for an optional step, the check that a job needs it at all).
Job statuses (`core.models.Stage`), the progress bar, stage timestamps, resume after a failure, the
pages' labels and the CLI's choices all come from this list. Functions are named "module:function" and
imported when first used, so reading the list (every page does) loads no engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from importlib import import_module


def _load(reference: str):
    module, name = reference.split(":")
    return getattr(import_module(module), name)


@dataclass(frozen=True)
class Step:
    #: The job's status while the step runs, and the key of its start time in `stage_times`.
    status: str
    label: str
    icon: str
    #: "module:function" taking the job's `Run` and leaving the step's output in the store or work dir.
    run: str
    #: "module:function" telling from that output whether the step is done (a resumed job skips it).
    done: str
    #: Optional steps also name "module:function" telling whether a job needs the step; others skip it.
    wanted: str | None = None

    @property
    def optional(self) -> bool:
        return self.wanted is not None

    @cached_property
    def functions(self):
        """(run, is_done, wanted) as callables."""
        return _load(self.run), _load(self.done), _load(self.wanted) if self.wanted else None


STEPS: tuple[Step, ...] = (
    Step("downloading", "Downloading", "⬇️", "core.stages.fetch:download", "core.stages.fetch:downloaded"),
    Step("extracting_audio", "Extracting audio", "🎚️", "core.stages.fetch:extract_audio",
         "core.stages.fetch:audio_extracted"),
    Step("uploading", "Uploading", "📦", "core.stages.fetch:upload", "core.stages.fetch:uploaded"),
    Step("transcribing", "Transcribing", "📝", "core.stages.transcribing:transcribe",
         "core.stages.transcribing:transcribed"),
    Step("translating", "Translating", "🌐", "core.stages.translating:translate",
         "core.stages.translating:translated", wanted="core.stages.translating:needs_translation"),
    Step("analyzing", "Analyzing", "🧠", "core.stages.analyzing:analyze", "core.stages.analyzing:analyzed"),
    Step("generating_embeddings", "Generating embeddings", "🧭", "core.stages.indexing:embed",
         "core.stages.indexing:embedded"),
    Step("storing", "Storing", "💾", "core.stages.indexing:store_vectors", "core.stages.indexing:stored"),
)

#: Statuses around the steps: before the first, and the two a job ends in.
BEFORE = ("pending", "Pending", "⏳")
ENDS = (("completed", "Completed", "✅"), ("failed", "Failed", "❌"))
