-- Hybrid search over a large library without ranking every segment that holds a common word.
-- At 1,000,000 segments a word such as "tomato" is held by 30,000 of them: reading each to rank it took 100-250 ms
-- of every search (bench/search.py --store postgres), and the best 50 of them by ts_rank say little about the
-- query. So a search leaves the words held by more than 1,000 of the segments it searches (core.store.hybrid's
-- COMMON_WORD_SEGMENTS) to meaning, judged from the planner's own statistics of the text vectors and the share of
-- the videos the filters keep (a search within a few videos ranks every word), and the
-- segments found by meaning come with their words, so each of them gains for holding the query's words whether
-- or not the keyword half reached it.

-- The share of the library's completed videos that these filters keep.
create function public.searched_share(platforms text[], categories text[], sentiments text[], date_from date,
                                      date_to date, job_ids text[], collections text[]) returns real
    language plpgsql stable set search_path = public as $$
begin
    return (select count(*) filter (
                       where (platforms is null or j.platform = any(platforms))
                         and (categories is null or a.category = any(categories))
                         and (sentiments is null or a.sentiment_label = any(sentiments))
                         and (date_from is null or coalesce(j.upload_date, j.created_at::date) >= date_from)
                         and (date_to is null or coalesce(j.upload_date, j.created_at::date) <= date_to)
                         and (job_ids is null or j.id = any(job_ids))
                         and (collections is null or j.collection_id = any(collections))
                   )::real / greatest(count(*), 1)
            from public.jobs j left join public.analysis a on a.job_id = j.id
            where j.status = 'completed');
end;
$$;

-- The statistics of the segments' (or translations') text vectors, for a role from which Row Level Security hides
-- them (pg_stats shows such a role nothing): the most common lexemes, their frequencies, and the rows counted. Only
-- while the library is public, as its rows are.
create function public.text_statistics(p_table regclass, out elems text[], out freqs real[], out total real)
    language sql stable security definer set search_path = public as $$
    select s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_stats s on s.schemaname = n.nspname and s.tablename = c.relname and s.attname = 'fts'
    where c.oid = p_table and p_table in ('public.segments'::regclass, 'public.translation_segments'::regclass)
      and public.library_is_public();
$$;

-- The terms held by at most 1,000 of the rows searched, a share `p_searched` of a table's rows. Without statistics
-- (a new or small table not yet analysed) every term counts as rare, as before.
create function public.rare_words(p_table regclass, p_terms text[], p_searched real default 1) returns text[]
    language plpgsql stable set search_path = public as $$
declare
    elems text[];
    freqs real[];
    total real;
    rare text[];
begin
    -- (plpgsql: its plans are kept for the session, where a SQL function would plan pg_stats at every call)
    select s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples into elems, freqs, total
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_stats s on s.schemaname = n.nspname and s.tablename = c.relname and s.attname = 'fts'
    where c.oid = p_table;
    if elems is null then  -- none, or hidden from this role by Row Level Security
        select t.elems, t.freqs, t.total into elems, freqs, total from public.text_statistics(p_table) t;
    end if;
    select coalesce(array_agg(t.term order by t.position), '{}') into rare
    from unnest(p_terms) with ordinality as t(term, position)
    where t.term <> '' and not coalesce((
        select bool_and(coalesce(freqs[array_position(elems, lexeme)], 0) * total * p_searched > 1000)
        from unnest(tsvector_to_array(to_tsvector('english', t.term))) as lexeme), false);
    return rare;
end;
$$;

-- As in 20261205001400_keyword_plan.sql, with the common words left out (unless the people who said them are
-- chosen), each table ranked by its own words.
create or replace function public.keyword_segments(
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
    language plpgsql stable set search_path = public as $$
declare
    unfiltered boolean := platforms is null and categories is null and sentiments is null
                          and date_from is null and date_to is null and job_ids is null and collections is null
                          and keyword_segments.speakers is null;
    searched real := 1;  -- the share of the library's videos the filters keep
    spoken tsquery;
    translated tsquery;
    found jsonb;
begin
    if not unfiltered and keyword_segments.speakers is null then
        searched := public.searched_share(platforms, categories, sentiments, date_from, date_to, job_ids,
                                          collections);
    end if;
    select to_tsquery('english', string_agg(quote_literal(term), ' | ')) into spoken
    from unnest(case when keyword_segments.speakers is null
                     then public.rare_words('public.segments', p_terms, searched) else p_terms end) as term
    where term <> '';
    select to_tsquery('english', string_agg(quote_literal(term), ' | ')) into translated
    from unnest(case when keyword_segments.speakers is null
                     then public.rare_words('public.translation_segments', p_terms, searched) else p_terms end)
        as term
    where term <> '';
    if spoken is null and translated is null then
        return '[]'::jsonb;
    end if;
    -- A null literal matches nothing.
    execute format($query$
        with texts as (
            select job_id, idx, text, ts_rank(fts, %1$L::tsquery) as rank
            from public.segments where fts @@ %1$L::tsquery
            union all
            select job_id, idx, text, ts_rank(fts, %2$L::tsquery) as rank
            from public.translation_segments where fts @@ %2$L::tsquery
        ), hits as (
            select s.job_id, s.idx, s.text, s.rank
            from texts s
            join public.jobs j on j.id = s.job_id and j.status = 'completed'
            left join public.analysis a on a.job_id = s.job_id
            where ($1 is null or j.platform = any($1))
              and ($2 is null or a.category = any($2))
              and ($3 is null or a.sentiment_label = any($3))
              and ($4 is null or coalesce(j.upload_date, j.created_at::date) >= $4)
              and ($5 is null or coalesce(j.upload_date, j.created_at::date) <= $5)
              and ($6 is null or j.id = any($6))
              and ($7 is null or j.collection_id = any($7))
              and ($8 is null or public.said_by(s.job_id, s.idx, $8))
            order by rank desc
            limit $9
        )
        select coalesce(jsonb_agg(jsonb_build_object('job_id', h.job_id, 'idx', h.idx, 'text', h.text)
                                  order by h.rank desc), '[]'::jsonb)
        from hits h$query$, spoken::text, translated::text)
    into found
    using platforms, categories, sentiments, date_from, date_to, job_ids, collections, speakers, match_count;
    return found;
end;
$$;

-- match_segments' finds with the words of each (and of its translation).
create function public.match_segments_with_text(
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
) returns table (job_id text, segment_idx integer, similarity double precision, text text, translation text)
    language sql stable set search_path = public as $$
    select m.job_id, m.segment_idx, m.similarity, s.text, t.text
    from public.match_segments(query_embedding, match_count, embedding_model, platforms, categories, sentiments,
                               date_from, date_to, job_ids, collections, speakers) m
    left join public.segments s on s.job_id = m.job_id and s.idx = m.segment_idx
    left join public.translation_segments t on t.job_id = m.job_id and t.idx = m.segment_idx
    order by m.similarity desc;
$$;

grant execute on function
    public.rare_words(regclass, text[], real),
    public.text_statistics(regclass),
    public.searched_share(text[], text[], text[], date, date, text[], text[]),
    public.match_segments_with_text(vector, integer, text, text[], text[], text[], date, date, text[], text[], text[])
    to anon, authenticated, service_role;
