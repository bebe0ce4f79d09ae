-- Corrections of transcripts (core/api/edits.py), each a JSON document numbered per video. A correction is
-- recorded only on the revision it was made from, so two editors at once never overwrite each other silently;
-- reprocessing with the corrections discarded forgets them with the rest.
create table public.edits (
    job_id text not null references public.jobs (id) on delete cascade,
    revision integer not null,
    data jsonb not null,
    primary key (job_id, revision)
);
alter table public.edits enable row level security;
create policy "library is readable" on public.edits for select to anon, authenticated
    using (public.library_is_public());
grant select on public.edits to anon, authenticated;
grant all on public.edits to service_role;

create function public.get_edits(p_job_id text) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(e.data order by e.revision), '[]'::jsonb) from public.edits e where e.job_id = p_job_id;
$$;

-- The new revision is base + 1, only while base is the latest (the video's row is locked meanwhile);
-- false when someone corrected the transcript since.
create function public.add_edit(p_job_id text, p_base_revision integer, p_edit jsonb) returns boolean
    language plpgsql set search_path = public as $$
declare
    latest integer;
begin
    perform 1 from public.jobs where id = p_job_id for update;
    select coalesce(max(revision), 0) into latest from public.edits where job_id = p_job_id;
    if latest <> p_base_revision then
        return false;
    end if;
    insert into public.edits (job_id, revision, data)
    values (p_job_id, latest + 1, p_edit || jsonb_build_object('revision', latest + 1));
    if p_edit->>'undoes' is not null then
        update public.edits set data = data || '{"undone": true}'::jsonb
        where job_id = p_job_id and revision = (p_edit->>'undoes')::integer;
    end if;
    return true;
end;
$$;

create or replace function public.reset_job(p_id text) returns void
    language sql set search_path = public as $$
    delete from public.embeddings where job_id = p_id;
    delete from public.analysis where job_id = p_id;
    delete from public.translations where job_id = p_id;
    delete from public.transcriptions where job_id = p_id;
    delete from public.audio_files where job_id = p_id;
    delete from public.usage where job_id = p_id;
    delete from public.edits where job_id = p_id;
    update public.jobs set status = 'pending', stage = 'pending', progress = 0, progress_detail = '', error = null,
        chapters = '[]'::jsonb, stage_times = jsonb_build_object('pending', public.utc_text(now()))
    where id = p_id;
$$;

revoke execute on function public.add_edit(text, integer, jsonb), public.reset_job(text)
    from public, anon, authenticated;
grant execute on function public.add_edit(text, integer, jsonb), public.reset_job(text) to service_role;
grant execute on function public.get_edits(text) to anon, authenticated, service_role;
