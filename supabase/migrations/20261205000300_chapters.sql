-- A video's chapters: the creator's, or found where a long talk changes subject. Kept on the job, as its stage
-- times are; update_job knows the new column (reset_job clears it: 20261205000500_edits.sql).
alter table public.jobs add column chapters jsonb not null default '[]'::jsonb;

create or replace function public.update_job(p_id text, p_fields jsonb) returns void
    language sql set search_path = public as $$
    update public.jobs j set
        (url, platform, extractor, video_id, status, stage, progress, progress_detail, error, title, uploader,
         duration, upload_date, description, thumbnail_url, webpage_url, stage_times, callback_url,
         collection_id, chapters) =
        (select r.url, r.platform, r.extractor, r.video_id, r.status, r.stage, r.progress, r.progress_detail,
                r.error, r.title, r.uploader, r.duration, r.upload_date, r.description, r.thumbnail_url,
                r.webpage_url, r.stage_times, r.callback_url, r.collection_id, r.chapters
         from jsonb_populate_record(j, p_fields) r)
    where j.id = p_id;
$$;

revoke execute on function public.update_job(text, jsonb) from public, anon, authenticated;
grant execute on function public.update_job(text, jsonb) to service_role;
