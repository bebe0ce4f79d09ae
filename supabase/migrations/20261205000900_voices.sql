-- Named speakers, one row per (video, speaker): who spoke how long, and the voice print each person's print is made
-- from ('[]' where it was forgotten or VOICE_PROFILES is off). They leave with their video; forget_voice deletes a
-- person's prints. The prints are read by the service role alone (the worker
-- matching a new video's voices); anyone who may read the library may read who is known and for how long.
create table public.voice_samples (
    job_id text not null references public.jobs (id) on delete cascade,
    speaker text not null,
    person text not null,
    name text not null,
    seconds double precision not null,
    voice jsonb not null,
    model text not null default 'ge2e',  -- the network that made the print (SPEAKER_MODEL)
    has_voice boolean generated always as (voice <> '[]'::jsonb) stored,
    created_at timestamptz not null default now(),
    primary key (job_id, speaker)
);
create index voice_samples_person on public.voice_samples (person);
alter table public.voice_samples enable row level security;
create policy "library is readable" on public.voice_samples for select to anon, authenticated
    using (public.library_is_public());
-- every column but the prints themselves (Supabase grants new tables whole to anon and authenticated by default)
revoke all on public.voice_samples from anon, authenticated;
grant select (job_id, speaker, person, name, seconds, model, has_voice, created_at) on public.voice_samples to anon, authenticated;
grant all on public.voice_samples to service_role;

create function public.save_voice_sample(p_job_id text, p_speaker text, p_person text, p_name text,
                                         p_seconds double precision, p_voice jsonb,
                                         p_model text default 'ge2e') returns void
    language sql set search_path = public as $$
    insert into public.voice_samples (job_id, speaker, person, name, seconds, voice, model)
    values (p_job_id, p_speaker, p_person, p_name, p_seconds, p_voice, p_model)
    on conflict (job_id, speaker) do update
        set person = excluded.person, name = excluded.name, seconds = excluded.seconds, voice = excluded.voice,
            model = excluded.model, created_at = now();
$$;

create function public.remove_voice_sample(p_job_id text, p_speaker text) returns void
    language sql set search_path = public as $$
    delete from public.voice_samples where job_id = p_job_id and speaker = p_speaker;
$$;

create function public.forget_voice(p_person text) returns integer
    language sql set search_path = public as $$
    with gone as (update public.voice_samples set voice = '[]'::jsonb
                  where person = p_person and voice <> '[]'::jsonb returning 1)
    select count(*)::integer from gone;
$$;

create function public.voice_samples() returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(jsonb_build_object('job_id', job_id, 'speaker', speaker, 'name', name,
                                                 'seconds', seconds, 'voice', voice, 'model', model)
                              order by created_at, job_id, speaker), '[]'::jsonb)
    from public.voice_samples;
$$;

-- Who is known and for how long, without the prints (which a reader may not select).
create function public.voice_names() returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(jsonb_build_object('job_id', job_id, 'speaker', speaker, 'name', name,
                                                 'seconds', seconds, 'model', model, 'has_voice', has_voice)
                              order by created_at, job_id, speaker), '[]'::jsonb)
    from public.voice_samples;
$$;

revoke execute on function public.save_voice_sample(text, text, text, text, double precision, jsonb, text),
    public.remove_voice_sample(text, text), public.forget_voice(text), public.voice_samples(),
    public.voice_names() from public, anon, authenticated;
grant execute on function public.save_voice_sample(text, text, text, text, double precision, jsonb, text),
    public.remove_voice_sample(text, text), public.forget_voice(text), public.voice_samples() to service_role;
grant execute on function public.voice_names() to anon, authenticated, service_role;
