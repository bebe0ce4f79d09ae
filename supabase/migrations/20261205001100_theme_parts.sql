-- A long video whose chapters are about different subjects belongs to each of their themes: the chapters' vectors
-- (embeddings at segment_idx -2, -3, ...) are grouped instead of the whole video's.
alter table public.theme_videos drop constraint theme_videos_pkey;
alter table public.theme_videos add primary key (job_id, theme_id);

create or replace function public.save_themes(p_themes jsonb) returns void
    language sql set search_path = public as $$
    delete from public.theme_videos;
    delete from public.themes;
    insert into public.themes (id, label, keywords, named, merged_into)
    select t->>'id', t->>'label', coalesce(t->'keywords', '[]'::jsonb), coalesce((t->>'named')::boolean, false),
           t->>'merged_into'
    from jsonb_array_elements(p_themes) t;
    insert into public.theme_videos (job_id, theme_id)
    select j.id, t->>'id'
    from jsonb_array_elements(p_themes) t, jsonb_array_elements_text(coalesce(t->'job_ids', '[]'::jsonb)) m(job_id)
    join public.jobs j on j.id = m.job_id
    on conflict do nothing;
$$;

-- The completed videos' chapter vectors of one model: {"job_id", "part" (the chapter's number), "vector"}.
create function public.video_part_vectors(p_model text) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(jsonb_build_object('job_id', e.job_id, 'part', -2 - e.segment_idx,
                                                 'vector', e.embedding::text)
                              order by j.created_at, j.id, e.segment_idx desc), '[]'::jsonb)
    from public.embeddings e
    join public.jobs j on j.id = e.job_id and j.status = 'completed'
    where e.model = p_model and e.segment_idx <= -2;
$$;

grant execute on function public.video_part_vectors(text) to anon, authenticated, service_role;
