-- Video Insight Studio: the library on Postgres (Supabase or plain Postgres with pgvector).
-- Apply with `supabase db push`, or with psql in file-name order.

create extension if not exists vector;

-- Settings the operator may change with SQL, e.g. hide the library from the anon key:
--   update public.app_settings set value = 'false' where key = 'library_public';
create table public.app_settings (
    key text primary key,
    value text not null
);
insert into public.app_settings (key, value) values ('library_public', 'true');

create function public.set_updated_at() returns trigger language plpgsql as $$
begin
    new.updated_at = now();
    return new;
end;
$$;

create table public.jobs (
    id text primary key,
    url text not null,
    platform text not null,
    extractor text not null,
    video_id text not null,
    status text not null default 'pending' check (status in ('pending', 'downloading', 'extracting_audio',
        'uploading', 'transcribing', 'analyzing', 'generating_embeddings', 'storing', 'completed', 'failed')),
    stage text not null default 'pending',
    progress real not null default 0,
    progress_detail text not null default '',
    error text,
    title text,
    uploader text,
    duration double precision,
    upload_date date,
    description text,
    thumbnail_url text,
    webpage_url text,
    stage_times jsonb not null default '{}'::jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint jobs_source_unique unique (platform, video_id)
);
create index jobs_status on public.jobs (status);
create index jobs_created on public.jobs (created_at desc);
create trigger jobs_updated_at before update on public.jobs
    for each row execute function public.set_updated_at();

create table public.audio_files (
    job_id text primary key references public.jobs (id) on delete cascade,
    audio_path text not null,            -- object name in the audio bucket
    thumbnail_path text,                 -- object name in the thumbnail bucket
    duration double precision not null,
    size_bytes bigint not null,
    sample_rate integer not null,
    created_at timestamptz not null default now()
);

create table public.transcriptions (
    job_id text primary key references public.jobs (id) on delete cascade,
    text text not null,
    language text,
    engine text not null,
    created_at timestamptz not null default now()
);

create table public.segments (
    job_id text not null references public.transcriptions (job_id) on delete cascade,
    idx integer not null,
    start_seconds double precision not null,
    end_seconds double precision not null,
    text text not null,
    words jsonb,
    primary key (job_id, idx)
);

create table public.analysis (
    job_id text primary key references public.jobs (id) on delete cascade,
    summary text not null,
    topics jsonb not null default '[]'::jsonb,
    sentiment_label text not null check (sentiment_label in ('positive', 'neutral', 'negative')),
    sentiment_score real not null check (sentiment_score between -1 and 1),
    segment_sentiment jsonb not null default '[]'::jsonb,
    category text not null,
    language text,
    engine text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index analysis_category on public.analysis (category);
create index analysis_sentiment on public.analysis (sentiment_label);
create trigger analysis_updated_at before update on public.analysis
    for each row execute function public.set_updated_at();

-- One vector per segment (segment_idx -1: the whole video). Models differ in dimension, so the column
-- is unconstrained and each common dimension has its own HNSW index (cosine distance).
create table public.embeddings (
    job_id text not null references public.jobs (id) on delete cascade,
    segment_idx integer not null,
    model text not null,
    dim integer not null,
    embedding vector not null,
    primary key (job_id, segment_idx, model),
    check (vector_dims(embedding) = dim)
);
create index embeddings_hnsw_384 on public.embeddings
    using hnsw ((embedding::vector(384)) vector_cosine_ops) where dim = 384;
create index embeddings_hnsw_1536 on public.embeddings
    using hnsw ((embedding::vector(1536)) vector_cosine_ops) where dim = 1536;

create table public.usage (
    job_id text not null references public.jobs (id) on delete cascade,
    stage text not null,
    engine text not null,
    model text not null,
    audio_seconds double precision not null default 0,
    input_tokens integer not null default 0,
    output_tokens integer not null default 0,
    cost_usd double precision,
    created_at timestamptz not null default now()
);
create index usage_job on public.usage (job_id);

-- Row Level Security: everyone may read the library while library_public is true; nobody but the
-- service role (which bypasses RLS: the worker) may write.
create function public.library_is_public() returns boolean
    language sql stable security definer set search_path = public as $$
    select coalesce((select value::boolean from public.app_settings where key = 'library_public'), true);
$$;

alter table public.app_settings enable row level security;
alter table public.jobs enable row level security;
alter table public.audio_files enable row level security;
alter table public.transcriptions enable row level security;
alter table public.segments enable row level security;
alter table public.analysis enable row level security;
alter table public.embeddings enable row level security;
alter table public.usage enable row level security;

create policy "library is readable" on public.jobs for select to anon, authenticated using (public.library_is_public());
create policy "library is readable" on public.audio_files for select to anon, authenticated using (public.library_is_public());
create policy "library is readable" on public.transcriptions for select to anon, authenticated using (public.library_is_public());
create policy "library is readable" on public.segments for select to anon, authenticated using (public.library_is_public());
create policy "library is readable" on public.analysis for select to anon, authenticated using (public.library_is_public());
create policy "library is readable" on public.embeddings for select to anon, authenticated using (public.library_is_public());
create policy "library is readable" on public.usage for select to anon, authenticated using (public.library_is_public());

-- Semantic search over segments, best first. Runs with the caller's rights, so RLS applies to it.
create function public.match_segments(
    query_embedding vector,
    match_count integer,
    embedding_model text,
    platforms text[] default null,
    categories text[] default null,
    sentiments text[] default null,
    date_from date default null,
    date_to date default null
) returns table (job_id text, segment_idx integer, similarity double precision)
    language plpgsql stable set search_path = public as $$
declare
    dims integer := vector_dims(query_embedding);
begin
    -- The dimension is written into the query so the planner can use that dimension's HNSW index;
    -- candidates are taken generously, then filtered, so filters rarely leave fewer than match_count.
    perform set_config('hnsw.ef_search', greatest(40, least(1000, match_count * 10))::text, true);
    return query execute format(
        'select c.job_id, c.segment_idx, c.similarity from (
             select e.job_id, e.segment_idx,
                    1 - (e.embedding::vector(%1$s) <=> $1::vector(%1$s)) as similarity
             from public.embeddings e
             where e.dim = %1$s and e.model = $3 and e.segment_idx >= 0
             order by e.embedding::vector(%1$s) <=> $1::vector(%1$s)
             limit $2 * 10
         ) c
         join public.jobs j on j.id = c.job_id and j.status = ''completed''
         left join public.analysis a on a.job_id = c.job_id
         where ($4 is null or j.platform = any($4))
           and ($5 is null or a.category = any($5))
           and ($6 is null or a.sentiment_label = any($6))
           and ($7 is null or coalesce(j.upload_date, j.created_at::date) >= $7)
           and ($8 is null or coalesce(j.upload_date, j.created_at::date) <= $8)
         order by c.similarity desc
         limit $2', dims)
    using query_embedding, match_count, embedding_model, platforms, categories, sentiments, date_from, date_to;
end;
$$;
