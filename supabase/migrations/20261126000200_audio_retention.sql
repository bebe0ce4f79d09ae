-- Audio kept only as long as wanted (AUDIO_RETENTION_DAYS): when it was removed; the transcript, the analysis,
-- the search vectors and the thumbnail stay.
alter table public.audio_files add column audio_removed_at timestamptz;
create index audio_files_created on public.audio_files (created_at);

create or replace function public.save_audio_file(p_audio jsonb) returns void
    language sql set search_path = public as $$
    insert into public.audio_files (job_id, audio_path, thumbnail_path, duration, size_bytes, sample_rate)
    select r.job_id, r.audio_path, r.thumbnail_path, r.duration, r.size_bytes, r.sample_rate
    from jsonb_populate_record(null::public.audio_files, p_audio) r
    on conflict (job_id) do update set audio_path = excluded.audio_path, thumbnail_path = excluded.thumbnail_path,
        duration = excluded.duration, size_bytes = excluded.size_bytes, sample_rate = excluded.sample_rate,
        created_at = now(), audio_removed_at = null;
$$;

-- Audio stored before p_before and still kept: [{"job_id": ..., "audio_path": ...}, ...]
create function public.expired_audio(p_before timestamptz) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(to_jsonb(a) - 'created_at' order by a.created_at), '[]'::jsonb)
    from public.audio_files a where a.created_at < p_before and a.audio_removed_at is null;
$$;

create function public.mark_audio_removed(p_job_id text) returns void
    language sql set search_path = public as $$
    update public.audio_files set audio_removed_at = now() where job_id = p_job_id;
$$;

revoke execute on function public.save_audio_file(jsonb), public.expired_audio(timestamptz),
    public.mark_audio_removed(text) from public, anon, authenticated;
grant execute on function public.expired_audio(timestamptz), public.mark_audio_removed(text) to service_role;
