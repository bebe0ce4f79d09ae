-- Filtered searches on Postgres without pgvector's iterative scans (before 0.8): at 1,000,000 segments a filter
-- keeping a third took 110-160 ms (bench/search.py --store postgres), of which 60 ms counted the segments it keeps
-- up to 300,000 to choose between measuring each and walking the index, and the walk was run twice (to count its
-- candidates, then to return them). The segments are now counted only up to 10,000 (below that each is measured);
-- beyond, the share of videos the filter keeps sizes the walk (three times the rows asked for, kept), or, when that
-- would be more than one walk gives, every kept segment is measured; the walk's rows are kept, not asked again.

create or replace function public.match_segments(
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
    walk_limit constant integer := 1000;  -- the most rows one walk of the index is asked for
    searched real;
    walk integer;
    found_ids text[];
    found_idxs integer[];
    found_similarities double precision[];
    unfiltered boolean := platforms is null and categories is null and sentiments is null
                          and date_from is null and date_to is null
                          and job_ids is null and collections is null
                          and match_segments.speakers is null;
    kept integer;
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

    -- How many segments the filter keeps, counted no further than where measuring each stops being quick.
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
        limit exact_limit + 1) k;
    if kept <= exact_limit then
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
        -- Without iterative scans the index is walked past the filter: far enough that three times the rows
        -- asked for are kept, by the share of the videos the filter keeps. Where that is beyond what one walk
        -- gives (a filter keeping under a sixth, for 50 rows), every kept segment is measured.
        searched := public.searched_share(platforms, categories, sentiments, date_from, date_to, job_ids,
                                          collections);
        walk := ceil(3 * match_count / greatest(searched, 0.001));
        if walk > walk_limit then
            return query execute format(
                'select e.job_id, e.segment_idx, 1 - ' || distance || ' ' || kept_segments || '
                 order by ' || distance || ' + 0 limit $2', dims)
            using query_embedding, match_count, embedding_model, platforms, categories, sentiments, date_from,
                  date_to, job_ids, collections, speakers;
            return;
        end if;
        perform set_config('hnsw.ef_search', greatest(100, walk)::text, true);
        candidates := format(
            'with c as materialized (
                 select e.job_id, e.segment_idx, 1 - ' || distance || ' as similarity
                 from public.embeddings e
                 where e.dim = %1$s and e.model = $3 and e.segment_idx >= 0
                 order by ' || distance || '
                 limit $12
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
    -- (the candidates are kept, not asked for twice: once to count them and once to return them)
    execute 'select coalesce(array_agg(c.job_id order by c.similarity desc), ''{}''),
                    coalesce(array_agg(c.segment_idx order by c.similarity desc), ''{}''),
                    coalesce(array_agg(c.similarity order by c.similarity desc), ''{}'')
             from (' || candidates || ') c'
        into found_ids, found_idxs, found_similarities
        using query_embedding, match_count, embedding_model, platforms, categories, sentiments, date_from, date_to,
              job_ids, collections, speakers, walk;
    if cardinality(found_ids) >= match_count then
        return query select * from unnest(found_ids, found_idxs, found_similarities) as f(job_id, segment_idx,
                                                                                          similarity)
                     order by f.similarity desc;
        return;
    end if;
    -- the candidates fell short: every kept segment is measured
    return query execute format('select e.job_id, e.segment_idx, 1 - ' || distance || ' ' || kept_segments || '
                                 order by ' || distance || ' + 0 limit $2', dims)
        using query_embedding, match_count, embedding_model, platforms, categories, sentiments, date_from, date_to,
              job_ids, collections, speakers;
end;
$$;

