-- The nearest-neighbour graphs built denser than pgvector's defaults (m = 16, ef_construction = 64). Over 1,000,000
-- segments the default graph led match_segments to 8.1 of the exact 10 nearest in 16 ms, and walking it twice as far
-- (hnsw.ef_search 400) to 8.2 in 22 ms: the nearest were not linked to the way in. Built with m = 24 and
-- ef_construction = 128 it leads to 9.9 of them in 16 ms (bench/search.py --store postgres --segments 1000000).
-- Building takes about twice as long: here once (about 750 s per million segments on two cores with
-- maintenance_work_mem at 4GB, much longer where the graph does not fit in it), and a little more for each new row.
drop index public.embeddings_hnsw_384;
create index embeddings_hnsw_384 on public.embeddings
    using hnsw ((embedding::vector(384)) vector_cosine_ops) with (m = 24, ef_construction = 128) where dim = 384;
drop index public.embeddings_hnsw_1536;
create index embeddings_hnsw_1536 on public.embeddings
    using hnsw ((embedding::vector(1536)) vector_cosine_ops) with (m = 24, ef_construction = 128) where dim = 1536;
