-- keyword_segments planned for each call's own words and filters. As a SQL function its one plan could not see how
-- many segments the words match nor which filters were given, and read every segment's text vector: 50-90 ms at
-- 100,000 segments where the same query with its words written in takes 8 ms (bench/search.py --store postgres).
-- The words go in as a literal, the filters as parameters of a statement planned for this call.
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
    words tsquery;
    found jsonb;
begin
    select to_tsquery('english', string_agg(quote_literal(term), ' | ')) into words
    from unnest(p_terms) as term where term <> '';
    if words is null then
        return '[]'::jsonb;
    end if;
    execute format($query$
        with texts as (
            select job_id, idx, text, fts from public.segments where fts @@ %1$L::tsquery
            union all
            select job_id, idx, text, fts from public.translation_segments where fts @@ %1$L::tsquery
        ), hits as (
            select s.job_id, s.idx, s.text, ts_rank(s.fts, %1$L::tsquery) as rank
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
        from hits h$query$, words::text)
    into found
    using platforms, categories, sentiments, date_from, date_to, job_ids, collections, speakers, match_count;
    return found;
end;
$$;
