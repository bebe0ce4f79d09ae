"""The pipeline's steps, one module each (fetch: downloading, extracting audio and uploading; transcribing;
translating; analyzing; indexing: embeddings and storing them). Each function takes the job's `JobContext`
(context.py); core.pipeline.registry lists them in order."""
