"""The pipeline worker: RQ's worker, plus the recovery round that rebuilds the queue from the library."""

from __future__ import annotations

import gc
import logging

from rq import Queue, Worker
from rq.exceptions import StopRequested

from core.config import get_settings
from core.jobs import follows, retention, themes
from core.jobs.queue import connect
from core.jobs.recovery import recover
from core.pipeline import preload_for_jobs, prepare_models
from core.store import get_store


class PipelineWorker(Worker):
    """An RQ worker that also puts back on the queue what the queue lost (core.jobs.recovery), when it starts
    and on every maintenance round (RQ runs the first as the worker starts).
    `rq worker -w core.jobs.workers.PipelineWorker` runs it too."""

    def work(self, *args, **kwargs):
        preload_for_jobs()  # before the first job is forked, so that every job inherits it
        # What was loaded lives as long as the worker: the garbage collector of each job's process then leaves
        # it alone, rather than walking it (and copying its memory pages) on every full collection.
        gc.freeze()
        themes.schedule()  # a library from before themes, or changed while no worker ran, is grouped again
        return super().work(*args, **kwargs)

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        self._recover()

    def _recover(self) -> None:
        try:
            recover()
            retention.schedule(get_settings(), self.connection)
            follows.schedule_due()
        except StopRequested:  # a stop asked for while the round waited on the library: stop, as asked
            raise
        except Exception:  # noqa: BLE001 - a library or queue hiccup must not stop the worker
            logging.getLogger(__name__).exception("recovery round failed")


def run_worker(burst: bool = False) -> None:
    """Start one worker on the pipeline queue; each job runs in a forked child, as with `rq worker`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    prepare_models(settings)
    redis = connect(settings)
    media_problem = get_store(service_role=True).media_problem()
    if media_problem:  # said once here; each job that meets it says it again, in a sentence, not a trace
        logging.getLogger(__name__).error("%s Jobs cannot store their media until this is fixed.", media_problem)
    # The worker wakes from waiting for work every worker_ttl - 15 s; only then does it run maintenance,
    # which is what notices jobs whose worker died, and jobs the queue lost.
    every = settings.worker_maintenance_seconds
    worker = PipelineWorker([Queue(settings.queue_name, connection=redis)], connection=redis,
                            maintenance_interval=every, worker_ttl=every + 15)
    worker.work(with_scheduler=True, burst=burst)
