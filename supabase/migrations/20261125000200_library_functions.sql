-- The library's operations as SQL functions, called the same way by the worker and the app whether
-- they reach the database directly (DATABASE_URL) or through Supabase's REST API (RPC). Each call is
-- one transaction, and every result is JSON, so both ways behave alike.
-- Reads run with the caller's rights (Row Level Security applies); writes are for the service role only.

create function public.utc_text(t timestamptz) returns text
    language sql immutable set search_path = public as $$
    select to_char(t at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS+00:00');
$$;

create function public.job_json(j public.jobs) returns jsonb
    language sql stable set search_path = public as $$
    select to_jsonb(j) || jsonb_build_object('created_at', public.utc_text(j.created_at),
                                             'updated_at', public.utc_text(j.updated_at));
$$;

-- --- reads ---------------------------------------------------------------------------------------

create function public.get_job(p_id text) returns jsonb
    language sql stable set search_path = public as $$
    select public.job_json(j) from public.jobs j where j.id = p_id;
$$;

create function public.find_job(p_platform text, p_video_id text) returns jsonb
    language sql stable set search_path = public as $$
    select public.job_json(j) from public.jobs j where j.platform = p_platform and j.video_id = p_video_id;
$$;

create function public.list_jobs(p_statuses text[] default null, p_platforms text[] default null) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(public.job_json(j) order by j.created_at desc, j.id desc), '[]'::jsonb)
    from public.jobs j
    where (p_statuses is null or j.status = any(p_statuses))
      and (p_platforms is null or j.platform = any(p_platforms));
$$;

create function public.get_audio_file(p_job_id text) returns jsonb
    language sql stable set search_path = public as $$
    select to_jsonb(a) - 'created_at' from public.audio_files a where a.job_id = p_job_id;
$$;

create function public.segment_json(s public.segments) returns jsonb
    language sql immutable set search_path = public as $$
    select jsonb_build_object('job_id', s.job_id, 'idx', s.idx, 'start', s.start_seconds,
                              'end', s.end_seconds, 'text', s.text, 'words', s.words);
$$;

create function public.get_transcript(p_job_id text) returns jsonb
    language sql stable set search_path = public as $$
    select jsonb_build_object(
        'text', t.text, 'language', t.language, 'engine', t.engine,
        'segments', coalesce((select jsonb_agg(public.segment_json(s) order by s.idx)
                              from public.segments s where s.job_id = t.job_id), '[]'::jsonb))
    from public.transcriptions t where t.job_id = p_job_id;
$$;

-- The segments named by (job_ids[i], idxs[i]) pairs.
create function public.get_segments(p_job_ids text[], p_idxs integer[]) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(public.segment_json(s)), '[]'::jsonb)
    from public.segments s join unnest(p_job_ids, p_idxs) as k(job_id, idx) on k.job_id = s.job_id and k.idx = s.idx;
$$;

create function public.get_analysis(p_job_id text) returns jsonb
    language sql stable set search_path = public as $$
    select jsonb_build_object('summary', a.summary, 'topics', a.topics,
                              'sentiment', jsonb_build_object('label', a.sentiment_label, 'score', a.sentiment_score),
                              'segment_sentiment', a.segment_sentiment, 'category', a.category,
                              'language', a.language, 'engine', a.engine)
    from public.analysis a where a.job_id = p_job_id;
$$;

-- A video counts as indexed once its whole-video vector (segment_idx -1, written last) is there.
create function public.has_embeddings(p_job_id text, p_model text) returns boolean
    language sql stable set search_path = public as $$
    select exists (select 1 from public.embeddings e
                   where e.job_id = p_job_id and e.model = p_model and e.segment_idx = -1);
$$;

create function public.jobs_missing_embeddings(p_model text) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(j.id order by j.created_at), '[]'::jsonb) from public.jobs j
    where j.status = 'completed' and not public.has_embeddings(j.id, p_model);
$$;

create function public.get_usage(p_job_id text) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(jsonb_build_object(
               'stage', u.stage, 'engine', u.engine, 'model', u.model, 'audio_seconds', u.audio_seconds,
               'input_tokens', u.input_tokens, 'output_tokens', u.output_tokens, 'cost_usd', u.cost_usd)
           order by u.created_at), '[]'::jsonb)
    from public.usage u where u.job_id = p_job_id;
$$;

create function public.job_costs() returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_object_agg(c.job_id, c.usd), '{}'::jsonb)
    from (select u.job_id, sum(u.cost_usd) as usd from public.usage u
          where u.cost_usd is not null group by u.job_id) c;
$$;

-- Keyword half of hybrid search: segments holding any of the terms (stemmed), best match first,
-- among completed videos that pass the filters.
create function public.keyword_segments(
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
    ), hits as (
        select s.job_id, s.idx, s.text, ts_rank(s.fts, q.query) as rank
        from q, public.segments s
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

-- Cosine similarity of the query to the segments named by (job_ids[i], idxs[i]) pairs.
create function public.segment_similarity(query_embedding vector, embedding_model text,
                                          p_job_ids text[], p_idxs integer[]) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(jsonb_build_object('job_id', e.job_id, 'idx', e.segment_idx,
                                                 'similarity', 1 - (e.embedding <=> query_embedding))), '[]'::jsonb)
    from public.embeddings e
    join unnest(p_job_ids, p_idxs) as k(job_id, idx) on k.job_id = e.job_id and k.idx = e.segment_idx
    where e.model = embedding_model;
$$;

-- --- writes (service role) -----------------------------------------------------------------------

-- A new pending job, or the one already there for this video: {"created": bool, "job": {...}}.
create function public.create_job(p_id text, p_url text, p_platform text, p_extractor text, p_video_id text)
    returns jsonb language plpgsql set search_path = public as $$
declare
    created public.jobs;
begin
    insert into public.jobs (id, url, platform, extractor, video_id, stage_times)
    values (p_id, p_url, p_platform, p_extractor, p_video_id, jsonb_build_object('pending', public.utc_text(now())))
    on conflict (platform, video_id) do nothing
    returning * into created;
    if created.id is not null then
        return jsonb_build_object('created', true, 'job', public.job_json(created));
    end if;
    return jsonb_build_object('created', false, 'job', public.find_job(p_platform, p_video_id));
end;
$$;

-- Sets the job's columns named in p_fields (a JSON object); the others keep their values.
create function public.update_job(p_id text, p_fields jsonb) returns void
    language sql set search_path = public as $$
    update public.jobs j set
        (url, platform, extractor, video_id, status, stage, progress, progress_detail, error, title, uploader,
         duration, upload_date, description, thumbnail_url, webpage_url, stage_times) =
        (select r.url, r.platform, r.extractor, r.video_id, r.status, r.stage, r.progress, r.progress_detail,
                r.error, r.title, r.uploader, r.duration, r.upload_date, r.description, r.thumbnail_url,
                r.webpage_url, r.stage_times
         from jsonb_populate_record(j, p_fields) r)
    where j.id = p_id;
$$;

create function public.enter_stage(p_id text, p_stage text, p_detail text default '') returns void
    language sql set search_path = public as $$
    update public.jobs set status = p_stage, stage = p_stage,
        progress = case when p_stage = 'completed' then 1 else 0 end, progress_detail = p_detail, error = null,
        stage_times = stage_times || jsonb_build_object(p_stage, public.utc_text(now()))
    where id = p_id;
$$;

create function public.fail_job(p_id text, p_stage text, p_error text) returns void
    language sql set search_path = public as $$
    update public.jobs set status = 'failed', stage = p_stage, error = p_error,
        stage_times = stage_times || jsonb_build_object('failed', public.utc_text(now()))
    where id = p_id;
$$;

-- Forget every result of the job and make it pending again (for reprocessing).
create function public.reset_job(p_id text) returns void
    language sql set search_path = public as $$
    delete from public.embeddings where job_id = p_id;
    delete from public.analysis where job_id = p_id;
    delete from public.transcriptions where job_id = p_id;
    delete from public.audio_files where job_id = p_id;
    delete from public.usage where job_id = p_id;
    update public.jobs set status = 'pending', stage = 'pending', progress = 0, progress_detail = '', error = null,
        stage_times = jsonb_build_object('pending', public.utc_text(now()))
    where id = p_id;
$$;

create function public.delete_job(p_id text) returns void
    language sql set search_path = public as $$
    delete from public.jobs where id = p_id;
$$;

create function public.save_audio_file(p_audio jsonb) returns void
    language sql set search_path = public as $$
    insert into public.audio_files (job_id, audio_path, thumbnail_path, duration, size_bytes, sample_rate)
    select r.job_id, r.audio_path, r.thumbnail_path, r.duration, r.size_bytes, r.sample_rate
    from jsonb_populate_record(null::public.audio_files, p_audio) r
    on conflict (job_id) do update set audio_path = excluded.audio_path, thumbnail_path = excluded.thumbnail_path,
        duration = excluded.duration, size_bytes = excluded.size_bytes, sample_rate = excluded.sample_rate;
$$;

-- p_segments: [{"start": s, "end": s, "text": "...", "words": [...] | null}, ...] in order.
create function public.save_transcript(p_job_id text, p_text text, p_language text, p_engine text,
                                       p_segments jsonb) returns void
    language sql set search_path = public as $$
    delete from public.transcriptions where job_id = p_job_id;
    insert into public.transcriptions (job_id, text, language, engine) values (p_job_id, p_text, p_language, p_engine);
    insert into public.segments (job_id, idx, start_seconds, end_seconds, text, words)
    select p_job_id, (s.ordinality - 1)::integer, (s.value ->> 'start')::double precision,
           (s.value ->> 'end')::double precision, s.value ->> 'text', nullif(s.value -> 'words', 'null'::jsonb)
    from jsonb_array_elements(p_segments) with ordinality as s;
$$;

-- p_analysis: {"summary", "topics", "sentiment": {"label", "score"}, "segment_sentiment", "category",
-- "language", "engine"}.
create function public.save_analysis(p_job_id text, p_analysis jsonb) returns void
    language sql set search_path = public as $$
    insert into public.analysis (job_id, summary, topics, sentiment_label, sentiment_score, segment_sentiment,
                                 category, language, engine)
    values (p_job_id, p_analysis ->> 'summary', coalesce(p_analysis -> 'topics', '[]'),
            p_analysis -> 'sentiment' ->> 'label', (p_analysis -> 'sentiment' ->> 'score')::real,
            coalesce(p_analysis -> 'segment_sentiment', '[]'), p_analysis ->> 'category',
            p_analysis ->> 'language', p_analysis ->> 'engine')
    on conflict (job_id) do update set summary = excluded.summary, topics = excluded.topics,
        sentiment_label = excluded.sentiment_label, sentiment_score = excluded.sentiment_score,
        segment_sentiment = excluded.segment_sentiment, category = excluded.category,
        language = excluded.language, engine = excluded.engine;
$$;

-- Vectors arrive in batches (a long video's would make one very large request): the first batch
-- starts afresh, and the whole-video vector comes last, so a video half-written is not yet indexed.
create function public.add_embeddings(p_job_id text, p_model text, p_idxs integer[], p_vectors text[],
                                      p_first boolean) returns void
    language plpgsql set search_path = public as $$
begin
    if p_first then
        delete from public.embeddings where job_id = p_job_id and model = p_model;
    end if;
    insert into public.embeddings (job_id, segment_idx, model, dim, embedding)
    select p_job_id, v.idx, p_model, vector_dims(v.vector::vector), v.vector::vector
    from unnest(p_idxs, p_vectors) as v(idx, vector);
end;
$$;

-- p_records: [{"stage", "engine", "model", "audio_seconds", "input_tokens", "output_tokens", "cost_usd"}, ...]
create function public.add_usage(p_job_id text, p_records jsonb) returns void
    language sql set search_path = public as $$
    insert into public.usage (job_id, stage, engine, model, audio_seconds, input_tokens, output_tokens, cost_usd)
    select p_job_id, r.stage, r.engine, r.model, coalesce(r.audio_seconds, 0), coalesce(r.input_tokens, 0),
           coalesce(r.output_tokens, 0), r.cost_usd
    from jsonb_to_recordset(p_records) as r(stage text, engine text, model text, audio_seconds double precision,
                                            input_tokens integer, output_tokens integer, cost_usd double precision);
$$;

-- --- who may call what ---------------------------------------------------------------------------
-- Functions are executable by everyone unless revoked, and Supabase grants new ones to its API roles:
-- the writes are taken back from all but the service role.
revoke execute on function
    public.create_job(text, text, text, text, text), public.update_job(text, jsonb),
    public.enter_stage(text, text, text), public.fail_job(text, text, text), public.reset_job(text),
    public.delete_job(text), public.save_audio_file(jsonb), public.save_transcript(text, text, text, text, jsonb),
    public.save_analysis(text, jsonb), public.add_embeddings(text, text, integer[], text[], boolean),
    public.add_usage(text, jsonb)
    from public, anon, authenticated;
grant usage on schema public to anon, authenticated, service_role;
grant select on all tables in schema public to anon, authenticated;
revoke insert, update, delete, truncate on all tables in schema public from anon, authenticated;
grant all on all tables in schema public to service_role;
grant execute on all functions in schema public to service_role;
