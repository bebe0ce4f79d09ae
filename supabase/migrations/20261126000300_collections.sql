-- Playlists, channels and multi-video pages: the videos of one link form a collection.
create table public.collections (
    id text primary key,
    url text not null,
    platform text not null,
    source_id text not null,             -- the playlist's or channel's own id on its site
    title text,
    created_at timestamptz not null default now(),
    constraint collections_source_unique unique (platform, source_id)
);
alter table public.jobs add column collection_id text references public.collections (id) on delete set null;
create index jobs_collection on public.jobs (collection_id);

alter table public.collections enable row level security;
create policy "library is readable" on public.collections for select to anon, authenticated
    using (public.library_is_public());
grant select on public.collections to anon, authenticated;
grant all on public.collections to service_role;

-- The collection of (platform, source_id), created or, when it exists, retitled.
create function public.save_collection(p_id text, p_url text, p_platform text, p_source_id text, p_title text)
    returns jsonb language sql set search_path = public as $$
    insert into public.collections (id, url, platform, source_id, title)
    values (p_id, p_url, p_platform, p_source_id, p_title)
    on conflict (platform, source_id) do update set title = coalesce(excluded.title, collections.title)
    returning to_jsonb(collections) - 'created_at';
$$;

create function public.get_collections(p_ids text[] default null) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(to_jsonb(c) - 'created_at' order by c.created_at desc), '[]'::jsonb)
    from public.collections c where p_ids is null or c.id = any(p_ids);
$$;

drop function public.list_jobs(text[], text[]);
create function public.list_jobs(p_statuses text[] default null, p_platforms text[] default null,
                                 p_collections text[] default null) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(public.job_json(j) order by j.created_at desc, j.id desc), '[]'::jsonb)
    from public.jobs j
    where (p_statuses is null or j.status = any(p_statuses))
      and (p_platforms is null or j.platform = any(p_platforms))
      and (p_collections is null or j.collection_id = any(p_collections));
$$;

create or replace function public.update_job(p_id text, p_fields jsonb) returns void
    language sql set search_path = public as $$
    update public.jobs j set
        (url, platform, extractor, video_id, status, stage, progress, progress_detail, error, title, uploader,
         duration, upload_date, description, thumbnail_url, webpage_url, stage_times, callback_url,
         collection_id) =
        (select r.url, r.platform, r.extractor, r.video_id, r.status, r.stage, r.progress, r.progress_detail,
                r.error, r.title, r.uploader, r.duration, r.upload_date, r.description, r.thumbnail_url,
                r.webpage_url, r.stage_times, r.callback_url, r.collection_id
         from jsonb_populate_record(j, p_fields) r)
    where j.id = p_id;
$$;

revoke execute on function public.save_collection(text, text, text, text, text), public.update_job(text, jsonb)
    from public, anon, authenticated;
grant execute on function public.get_collections(text[]), public.list_jobs(text[], text[], text[])
    to anon, authenticated, service_role;
