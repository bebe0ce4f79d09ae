"""Run one pipeline worker: `python worker.py` (same as `python -m core worker` or `rq worker pipeline`)."""

from core.jobs.workers import run_worker

if __name__ == "__main__":
    run_worker()
