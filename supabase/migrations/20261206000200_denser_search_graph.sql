-- A denser HNSW graph for search (m = 24, ef_construction = 128 instead of pgvector's 16 and 64). At 1,000,000
-- segments on Postgres 18 with pgvector 0.8 and the index in shared_buffers, match_segments found 9.7 of the exact
-- top 10 instead of 8.7, in 12.3 ms instead of 11.2 (bench/search.py --store postgres --segments 1000000); the
-- index took 489 s to build instead of 325, and each vector added costs more. Rebuilt here only while the library
-- is small (seconds); a larger library keeps its index until its operator rebuilds it in a quiet hour, as the README
-- says ("Supabase or your own Postgres"), because a migration would lock out writes for the whole build.
do $$
begin
    if (select count(*) from (select 1 from public.embeddings limit 20001) rows) <= 20000 then
        drop index if exists public.embeddings_hnsw_384;
        create index embeddings_hnsw_384 on public.embeddings
            using hnsw ((embedding::vector(384)) vector_cosine_ops) with (m = 24, ef_construction = 128)
            where dim = 384;
        drop index if exists public.embeddings_hnsw_1536;
        create index embeddings_hnsw_1536 on public.embeddings
            using hnsw ((embedding::vector(1536)) vector_cosine_ops) with (m = 24, ef_construction = 128)
            where dim = 1536;
    end if;
end $$;
