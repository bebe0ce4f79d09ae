-- Semantic search without filters asks the HNSW index for what it returns: every candidate is kept, so
-- taking ten times as many (and searching the graph that much wider) only cost time — at 100,000
-- segments, 39 ms of ef_search 500 against 9 ms of ef_search 100. Filtered searches still take ten times
-- as many, so filters rarely leave fewer than match_count.
create or replace function public.match_segments(
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
    unfiltered boolean := platforms is null and categories is null and sentiments is null
                          and date_from is null and date_to is null;
    candidates integer := case when unfiltered then match_count else match_count * 10 end;
begin
    -- The dimension is written into the query so the planner can use that dimension's HNSW index.
    perform set_config('hnsw.ef_search', (case when unfiltered then greatest(40, match_count * 2)
                                               else greatest(40, least(1000, candidates)) end)::text, true);
    return query execute format(
        'select c.job_id, c.segment_idx, c.similarity from (
             select e.job_id, e.segment_idx,
                    1 - (e.embedding::vector(%1$s) <=> $1::vector(%1$s)) as similarity
             from public.embeddings e
             where e.dim = %1$s and e.model = $3 and e.segment_idx >= 0
             order by e.embedding::vector(%1$s) <=> $1::vector(%1$s)
             limit $9
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
    using query_embedding, match_count, embedding_model, platforms, categories, sentiments, date_from, date_to,
          candidates;
end;
$$;
