-- Search by who said it: both search functions take a speakers filter (names, lower case), which keeps only the
-- segments those people said (a translated moment is said by whoever said the original); the rest is as in
-- 20261205000100_search_scopes.sql. Search hits carry the speaker's name. The old signatures are dropped, not
-- overloaded: Supabase's REST API picks a function by its argument names and would find two.
drop function public.match_segments(vector, integer, text, text[], text[], text[], date, date, text[], text[]);
drop function public.keyword_segments(text[], integer, text[], text[], text[], date, date, text[], text[]);

-- Whether a segment was said by one of these people (names in lower case): its speaker's name in its transcript.
create function public.said_by(p_job_id text, p_idx integer, p_people text[]) returns boolean
    language sql stable set search_path = public as $$
    select exists (select 1 from public.segments s
                   join public.transcriptions t on t.job_id = s.job_id
                   cross join lateral jsonb_array_elements(t.speakers) sp
                   where s.job_id = p_job_id and s.idx = p_idx and s.speaker = sp ->> 'id'
                     and lower(sp ->> 'name') = any(p_people));
$$;

create function public.match_segments(
    query_embedding vector,
    match_count integer,
    embedding_model text,
    platforms text[] default null,
    categories text[] default null,
    sentiments text[] default null,
    date_from date default null,
    date_to date default null,
    job_ids text[] default null,
    collections text[] default null,
    speakers text[] default null
) returns table (job_id text, segment_idx integer, similarity double precision)
    language plpgsql stable set search_path = public as $$
declare
    dims integer := vector_dims(query_embedding);
    exact_limit constant integer := 10000;
    broad_share constant real := 0.3;
    library bigint;
    bound integer;
    unfiltered boolean := platforms is null and categories is null and sentiments is null
                          and date_from is null and date_to is null
                          and job_ids is null and collections is null
                          and match_segments.speakers is null;
    kept integer;
    found integer;
    candidates text;
    iterative boolean := coalesce((select string_to_array(split_part(extversion, '-', 1), '.')::int[] >= '{0,8}'
                                   from pg_extension where extname = 'vector'), false);
    kept_segments constant text := '
        from public.embeddings e
        join public.jobs j on j.id = e.job_id and j.status = ''completed''
        left join public.analysis a on a.job_id = e.job_id
        where e.dim = %1$s and e.model = $3 and e.segment_idx >= 0
          and ($4 is null or j.platform = any($4))
          and ($5 is null or a.category = any($5))
          and ($6 is null or a.sentiment_label = any($6))
          and ($7 is null or coalesce(j.upload_date, j.created_at::date) >= $7)
          and ($8 is null or coalesce(j.upload_date, j.created_at::date) <= $8)
          and ($9 is null or j.id = any($9))
          and ($10 is null or j.collection_id = any($10))
          and ($11 is null or public.said_by(e.job_id, e.segment_idx, $11))';
    distance constant text := '(e.embedding::vector(%1$s) <=> $1::vector(%1$s))';
begin
    if unfiltered then
        perform set_config('hnsw.ef_search', greatest(100, least(1000, match_count * 4))::text, true);
        -- "materialized": the index is walked once, whatever the planner thinks of the join that follows
        return query execute format(
            'with c as materialized (
                 select e.job_id, e.segment_idx, 1 - ' || distance || ' as similarity
                 from public.embeddings e
                 where e.dim = %1$s and e.model = $3 and e.segment_idx >= 0
                 order by ' || distance || '
                 limit greatest($2 * 4, 100)
             )
             select c.job_id, c.segment_idx, c.similarity from c
             join public.jobs j on j.id = c.job_id and j.status = ''completed''
             order by c.similarity desc
             limit $2', dims)
        using query_embedding, match_count, embedding_model;
        return;
    end if;

    -- How many segments the filter keeps, counted no further than where the index becomes the better way.
    select reltuples::bigint into library from pg_class where oid = 'public.embeddings'::regclass;
    if not iterative and library <= 0 then  -- never analysed yet: counted
        select count(*) into library from public.embeddings;
    end if;
    bound := case when iterative then exact_limit else greatest(exact_limit, (library * broad_share)::integer) end;
    -- (Counted in the narrow segments table: reading the embeddings' rows would read every vector.)
    select count(*) into kept from (
        select 1 from public.jobs j
        left join public.analysis a on a.job_id = j.id
        join public.segments s on s.job_id = j.id
        where j.status = 'completed'
          and (platforms is null or j.platform = any(platforms))
          and (categories is null or a.category = any(categories))
          and (sentiments is null or a.sentiment_label = any(sentiments))
          and (date_from is null or coalesce(j.upload_date, j.created_at::date) >= date_from)
          and (date_to is null or coalesce(j.upload_date, j.created_at::date) <= date_to)
          and (job_ids is null or j.id = any(job_ids))
          and (collections is null or j.collection_id = any(collections))
          and (match_segments.speakers is null or public.said_by(s.job_id, s.idx, match_segments.speakers))
        limit bound + 1) k;
    if kept <= bound then
        -- "+ 0": the order is computed for each kept segment, not read from the index
        return query execute format(
            'select e.job_id, e.segment_idx, 1 - ' || distance || ' ' || kept_segments || '
             order by ' || distance || ' + 0 limit $2', dims)
        using query_embedding, match_count, embedding_model, platforms, categories, sentiments, date_from, date_to,
              job_ids, collections, speakers;
        return;
    end if;

    if iterative then
        perform set_config('hnsw.iterative_scan', 'relaxed_order', true);
        perform set_config('hnsw.ef_search', greatest(100, least(1000, match_count * 4))::text, true);
        candidates := format(
            'select c.job_id, c.segment_idx, c.similarity from (
                 select e.job_id, e.segment_idx, 1 - ' || distance || ' as similarity ' || kept_segments || '
                 order by ' || distance || ' limit $2
             ) c order by c.similarity desc', dims);
    else
        perform set_config('hnsw.ef_search', greatest(100, least(1000, match_count * 10))::text, true);
        candidates := format(
            'with c as materialized (
                 select e.job_id, e.segment_idx, 1 - ' || distance || ' as similarity
                 from public.embeddings e
                 where e.dim = %1$s and e.model = $3 and e.segment_idx >= 0
                 order by ' || distance || '
                 limit $2 * 10
             )
             select c.job_id, c.segment_idx, c.similarity from c
             join public.jobs j on j.id = c.job_id and j.status = ''completed''
             left join public.analysis a on a.job_id = c.job_id
             where ($4 is null or j.platform = any($4))
               and ($5 is null or a.category = any($5))
               and ($6 is null or a.sentiment_label = any($6))
               and ($7 is null or coalesce(j.upload_date, j.created_at::date) >= $7)
               and ($8 is null or coalesce(j.upload_date, j.created_at::date) <= $8)
               and ($9 is null or j.id = any($9))
               and ($10 is null or j.collection_id = any($10))
               and ($11 is null or public.said_by(c.job_id, c.segment_idx, $11))
             order by c.similarity desc
             limit $2', dims);
    end if;
    execute 'select count(*) from (' || candidates || ') c' into found
        using query_embedding, match_count, embedding_model, platforms, categories, sentiments, date_from, date_to,
              job_ids, collections, speakers;
    if found < match_count then  -- the candidates fell short: every kept segment is measured
        candidates := format('select e.job_id, e.segment_idx, 1 - ' || distance || ' ' || kept_segments || '
                              order by ' || distance || ' + 0 limit $2', dims);
    end if;
    return query execute candidates
        using query_embedding, match_count, embedding_model, platforms, categories, sentiments, date_from, date_to,
              job_ids, collections, speakers;
end;
$$;

create function public.keyword_segments(
    p_terms text[],
    match_count integer,
    platforms text[] default null,
    categories text[] default null,
    sentiments text[] default null,
    date_from date default null,
    date_to date default null,
    job_ids text[] default null,
    collections text[] default null,
    speakers text[] default null
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
          and (job_ids is null or j.id = any(job_ids))
          and (collections is null or j.collection_id = any(collections))
          and (keyword_segments.speakers is null or public.said_by(s.job_id, s.idx, keyword_segments.speakers))
        order by rank desc
        limit match_count
    )
    select coalesce(jsonb_agg(jsonb_build_object('job_id', h.job_id, 'idx', h.idx, 'text', h.text)
                              order by h.rank desc), '[]'::jsonb)
    from hits h;
$$;


create or replace function public.get_segments(p_job_ids text[], p_idxs integer[]) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(public.segment_json(s) || jsonb_build_object(
               'translation', t.text, 'translation_language', tr.language,
               'speaker_name', (select sp ->> 'name' from public.transcriptions w
                                cross join lateral jsonb_array_elements(w.speakers) sp
                                where w.job_id = s.job_id and sp ->> 'id' = s.speaker limit 1))),
                    '[]'::jsonb)
    from public.segments s
    join unnest(p_job_ids, p_idxs) as k(job_id, idx) on k.job_id = s.job_id and k.idx = s.idx
    left join public.translation_segments t on t.job_id = s.job_id and t.idx = s.idx
    left join public.translations tr on tr.job_id = t.job_id;
$$;

grant execute on function
    public.said_by(text, integer, text[]),
    public.match_segments(vector, integer, text, text[], text[], text[], date, date, text[], text[], text[]),
    public.keyword_segments(text[], integer, text[], text[], text[], date, date, text[], text[], text[])
    to anon, authenticated, service_role;
