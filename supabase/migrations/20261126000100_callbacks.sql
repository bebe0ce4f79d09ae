-- Where to tell a program that a job ended (a webhook given with the link, through the HTTP API).
alter table public.jobs add column callback_url text;

create or replace function public.update_job(p_id text, p_fields jsonb) returns void
    language sql set search_path = public as $$
    update public.jobs j set
        (url, platform, extractor, video_id, status, stage, progress, progress_detail, error, title, uploader,
         duration, upload_date, description, thumbnail_url, webpage_url, stage_times, callback_url) =
        (select r.url, r.platform, r.extractor, r.video_id, r.status, r.stage, r.progress, r.progress_detail,
                r.error, r.title, r.uploader, r.duration, r.upload_date, r.description, r.thumbnail_url,
                r.webpage_url, r.stage_times, r.callback_url
         from jsonb_populate_record(j, p_fields) r)
    where j.id = p_id;
$$;

revoke execute on function public.update_job(text, jsonb) from public, anon, authenticated;
