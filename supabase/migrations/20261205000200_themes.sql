-- Themes: groups of videos about one subject (core/library/themes.py), each video in at most one. A worker
-- replaces them as the library grows; reading them is as public as the rest of the library.
create table public.themes (
    id text primary key,
    label text not null,
    keywords jsonb not null default '[]'::jsonb,
    named boolean not null default false,
    merged_into text,
    updated_at timestamptz not null default now()
);
create table public.theme_videos (
    job_id text primary key references public.jobs (id) on delete cascade,
    theme_id text not null references public.themes (id) on delete cascade
);
create index theme_videos_theme on public.theme_videos (theme_id);

alter table public.themes enable row level security;
alter table public.theme_videos enable row level security;
create policy "library is readable" on public.themes for select to anon, authenticated
    using (public.library_is_public());
create policy "library is readable" on public.theme_videos for select to anon, authenticated
    using (public.library_is_public());
grant select on public.themes, public.theme_videos to anon, authenticated;
grant all on public.themes, public.theme_videos to service_role;

-- The completed videos' whole-video vectors of one model, oldest first, in pgvector's text form.
create function public.video_vectors(p_model text) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(jsonb_build_object('job_id', e.job_id, 'vector', e.embedding::text)
                              order by j.created_at, j.id), '[]'::jsonb)
    from public.embeddings e
    join public.jobs j on j.id = e.job_id and j.status = 'completed'
    where e.model = p_model and e.segment_idx = -1;
$$;

create function public.get_themes() returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(jsonb_build_object(
        'id', t.id, 'label', t.label, 'keywords', t.keywords, 'named', t.named, 'merged_into', t.merged_into,
        'job_ids', coalesce((select jsonb_agg(v.job_id order by v.job_id) from public.theme_videos v
                             where v.theme_id = t.id), '[]'::jsonb)) order by t.id), '[]'::jsonb)
    from public.themes t;
$$;

-- Replace every theme and its videos in one transaction (a video deleted meanwhile is left out).
create function public.save_themes(p_themes jsonb) returns void
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
    on conflict (job_id) do update set theme_id = excluded.theme_id;
$$;

revoke execute on function public.save_themes(jsonb) from public, anon, authenticated;
grant execute on function public.save_themes(jsonb) to service_role;
grant execute on function public.video_vectors(text), public.get_themes() to anon, authenticated, service_role;
