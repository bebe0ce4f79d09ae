"""Work to do and the processes that do it: links submitted (submitting), the RQ queue and the per-run lease
(queue), the workers (workers), the recovery round that rebuilds the queue from the library (recovery), audio
retention (retention), and programs told when a job ends (webhooks). Running a job itself is core.pipeline."""
