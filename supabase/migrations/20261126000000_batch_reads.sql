-- Reads of many jobs at once, so a page or a search makes one call whatever the number of videos.
-- Each answers a JSON object keyed by job id; ids not in the library are simply absent.

create function public.get_jobs(p_ids text[]) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_object_agg(j.id, public.job_json(j)), '{}'::jsonb)
    from public.jobs j where j.id = any(p_ids);
$$;

create function public.get_audio_files(p_job_ids text[]) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_object_agg(a.job_id, to_jsonb(a) - 'created_at'), '{}'::jsonb)
    from public.audio_files a where a.job_id = any(p_job_ids);
$$;

create function public.get_analyses(p_job_ids text[]) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_object_agg(a.job_id, public.get_analysis(a.job_id)), '{}'::jsonb)
    from public.analysis a where a.job_id = any(p_job_ids);
$$;

grant execute on function public.get_jobs(text[]), public.get_audio_files(text[]), public.get_analyses(text[])
    to anon, authenticated, service_role;
