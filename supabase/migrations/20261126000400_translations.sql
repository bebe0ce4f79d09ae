-- Job statuses come from the pipeline's step registry (core/stages): a new step needs no schema change.
alter table public.jobs drop constraint if exists jobs_status_check;

-- The transcript in another language: one segment per transcript segment, at the same times.
create table public.translations (
    job_id text primary key references public.jobs (id) on delete cascade,
    language text not null,              -- translated into
    source_language text,                -- spoken
    engine text not null,
    text text not null,
    created_at timestamptz not null default now()
);

create table public.translation_segments (
    job_id text not null references public.translations (job_id) on delete cascade,
    idx integer not null,                -- the transcript segment it translates
    start_seconds double precision not null,
    end_seconds double precision not null,
    text text not null,
    fts tsvector generated always as (to_tsvector('english', text)) stored,
    primary key (job_id, idx)
);
create index translation_segments_fts on public.translation_segments using gin (fts);

alter table public.translations enable row level security;
alter table public.translation_segments enable row level security;
create policy "library is readable" on public.translations for select to anon, authenticated
    using (public.library_is_public());
create policy "library is readable" on public.translation_segments for select to anon, authenticated
    using (public.library_is_public());
grant select on public.translations, public.translation_segments to anon, authenticated;
grant all on public.translations, public.translation_segments to service_role;

create function public.save_translation(p_job_id text, p_language text, p_source_language text, p_engine text,
                                        p_segments jsonb) returns void
    language sql set search_path = public as $$
    delete from public.translations where job_id = p_job_id;
    insert into public.translations (job_id, language, source_language, engine, text)
    select p_job_id, p_language, p_source_language, p_engine,
           coalesce(string_agg(s.value ->> 'text', ' ' order by s.ordinality), '')
    from jsonb_array_elements(p_segments) with ordinality as s;
    insert into public.translation_segments (job_id, idx, start_seconds, end_seconds, text)
    select p_job_id, (s.ordinality - 1)::integer, (s.value ->> 'start')::double precision,
           (s.value ->> 'end')::double precision, s.value ->> 'text'
    from jsonb_array_elements(p_segments) with ordinality as s;
$$;

create function public.get_translation(p_job_id text) returns jsonb
    language sql stable set search_path = public as $$
    select jsonb_build_object(
        'language', t.language, 'source_language', t.source_language, 'engine', t.engine,
        'segments', coalesce((select jsonb_agg(jsonb_build_object('start', s.start_seconds, 'end', s.end_seconds,
                                                                  'text', s.text) order by s.idx)
                              from public.translation_segments s where s.job_id = t.job_id), '[]'::jsonb))
    from public.translations t where t.job_id = p_job_id;
$$;

-- Search hits carry the moment's translation beside the original words.
create or replace function public.get_segments(p_job_ids text[], p_idxs integer[]) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(public.segment_json(s) || jsonb_build_object('translation', t.text,
                                                                           'translation_language', tr.language)),
                    '[]'::jsonb)
    from public.segments s
    join unnest(p_job_ids, p_idxs) as k(job_id, idx) on k.job_id = s.job_id and k.idx = s.idx
    left join public.translation_segments t on t.job_id = s.job_id and t.idx = s.idx
    left join public.translations tr on tr.job_id = t.job_id;
$$;

-- Keyword search over both languages: a moment matches by its original words or its translation's.
create or replace function public.keyword_segments(
    p_terms text[],
    match_count integer,
    platforms text[] default null,
    categories text[] default null,
    sentiments text[] default null,
    date_from date default null,
    date_to date default null
) returns jsonb
    language sql stable set search_path = public as $$
    with q as (
        select to_tsquery('english', string_agg(quote_literal(term), ' | ')) as query
        from unnest(p_terms) as term where term <> ''
    ), texts as (
        select job_id, idx, text, fts from public.segments
        union all
        select job_id, idx, text, fts from public.translation_segments
    ), hits as (
        select s.job_id, s.idx, s.text, ts_rank(s.fts, q.query) as rank
        from q, texts s
        join public.jobs j on j.id = s.job_id and j.status = 'completed'
        left join public.analysis a on a.job_id = s.job_id
        where s.fts @@ q.query
          and (platforms is null or j.platform = any(platforms))
          and (categories is null or a.category = any(categories))
          and (sentiments is null or a.sentiment_label = any(sentiments))
          and (date_from is null or coalesce(j.upload_date, j.created_at::date) >= date_from)
          and (date_to is null or coalesce(j.upload_date, j.created_at::date) <= date_to)
        order by rank desc
        limit match_count
    )
    select coalesce(jsonb_agg(jsonb_build_object('job_id', h.job_id, 'idx', h.idx, 'text', h.text)
                              order by h.rank desc), '[]'::jsonb)
    from hits h;
$$;

create or replace function public.reset_job(p_id text) returns void
    language sql set search_path = public as $$
    delete from public.embeddings where job_id = p_id;
    delete from public.analysis where job_id = p_id;
    delete from public.translations where job_id = p_id;
    delete from public.transcriptions where job_id = p_id;
    delete from public.audio_files where job_id = p_id;
    delete from public.usage where job_id = p_id;
    update public.jobs set status = 'pending', stage = 'pending', progress = 0, progress_detail = '', error = null,
        stage_times = jsonb_build_object('pending', public.utc_text(now()))
    where id = p_id;
$$;

revoke execute on function public.save_translation(text, text, text, text, jsonb), public.reset_job(text)
    from public, anon, authenticated;
grant execute on function public.get_translation(text), public.get_segments(text[], integer[]),
    public.keyword_segments(text[], integer, text[], text[], text[], date, date)
    to anon, authenticated, service_role;
grant execute on function public.save_translation(text, text, text, text, jsonb) to service_role;
