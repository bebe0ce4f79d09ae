-- Keyword half of hybrid search: stemmed full-text index over transcript segments.
alter table public.segments
    add column fts tsvector generated always as (to_tsvector('english', text)) stored;
create index segments_fts on public.segments using gin (fts);
