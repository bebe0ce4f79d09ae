-- The Library a page at a time: the jobs of one page, and how many there are in each status, from the database
-- rather than every job read by the app.
drop function public.list_jobs(text[], text[], text[]);
create function public.list_jobs(p_statuses text[] default null, p_platforms text[] default null,
                                 p_collections text[] default null, p_limit integer default null,
                                 p_offset integer default 0) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(public.job_json(j) order by j.created_at desc, j.id desc), '[]'::jsonb)
    from public.jobs j
    where j.id in (select k.id from public.jobs k
                   where (p_statuses is null or k.status = any(p_statuses))
                     and (p_platforms is null or k.platform = any(p_platforms))
                     and (p_collections is null or k.collection_id = any(p_collections))
                   order by k.created_at desc, k.id desc
                   limit p_limit offset p_offset);
$$;

-- {"completed": 12, "failed": 1, ...} for the jobs of these platforms and collections (all, where null).
create function public.job_counts(p_platforms text[] default null, p_collections text[] default null)
    returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_object_agg(status, jobs), '{}'::jsonb)
    from (select j.status, count(*) as jobs from public.jobs j
          where (p_platforms is null or j.platform = any(p_platforms))
            and (p_collections is null or j.collection_id = any(p_collections))
          group by j.status) counted;
$$;

grant execute on function public.list_jobs(text[], text[], text[], integer, integer),
    public.job_counts(text[], text[]) to anon, authenticated, service_role;
