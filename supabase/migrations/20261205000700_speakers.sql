-- Who speaks when: each segment's speaker, and each transcript's speakers ([{"id", "name", "suggested_name",
-- "seconds", "voice"}]), whether they were looked for, and why there are none where none were found.
-- save_transcript takes them (its old signature is dropped, not overloaded: Supabase's REST API picks a
-- function by its argument names).
alter table public.segments add column speaker text;
alter table public.transcriptions add column diarized boolean not null default false;
alter table public.transcriptions add column speakers jsonb not null default '[]'::jsonb;
alter table public.transcriptions add column speakers_note text;

create or replace function public.segment_json(s public.segments) returns jsonb
    language sql immutable set search_path = public as $$
    select jsonb_build_object('job_id', s.job_id, 'idx', s.idx, 'start', s.start_seconds,
                              'end', s.end_seconds, 'text', s.text, 'words', s.words, 'speaker', s.speaker);
$$;

drop function public.save_transcript(text, text, text, text, jsonb, jsonb, text);
create function public.save_transcript(p_job_id text, p_text text, p_language text, p_engine text,
                                       p_segments jsonb, p_vocabulary jsonb default '[]'::jsonb,
                                       p_prompt text default null, p_diarized boolean default false,
                                       p_speakers jsonb default '[]'::jsonb,
                                       p_speakers_note text default null) returns void
    language sql set search_path = public as $$
    delete from public.transcriptions where job_id = p_job_id;
    insert into public.transcriptions (job_id, text, language, engine, vocabulary, prompt, diarized, speakers,
                                       speakers_note)
    values (p_job_id, p_text, p_language, p_engine, coalesce(p_vocabulary, '[]'::jsonb), p_prompt,
            coalesce(p_diarized, false), coalesce(p_speakers, '[]'::jsonb), p_speakers_note);
    insert into public.segments (job_id, idx, start_seconds, end_seconds, text, words, speaker)
    select p_job_id, (s.ordinality - 1)::integer, (s.value ->> 'start')::double precision,
           (s.value ->> 'end')::double precision, s.value ->> 'text', nullif(s.value -> 'words', 'null'::jsonb),
           s.value ->> 'speaker'
    from jsonb_array_elements(p_segments) with ordinality as s;
$$;

create or replace function public.get_transcript(p_job_id text) returns jsonb
    language sql stable set search_path = public as $$
    select jsonb_build_object(
        'text', t.text, 'language', t.language, 'engine', t.engine, 'vocabulary', t.vocabulary, 'prompt', t.prompt,
        'diarized', t.diarized, 'speakers', t.speakers, 'speakers_note', t.speakers_note,
        'segments', coalesce((select jsonb_agg(public.segment_json(s) order by s.idx)
                              from public.segments s where s.job_id = t.job_id), '[]'::jsonb))
    from public.transcriptions t where t.job_id = p_job_id;
$$;

-- A transcript's speakers replaced (names given), its segments untouched.
create function public.save_speakers(p_job_id text, p_speakers jsonb) returns void
    language sql set search_path = public as $$
    update public.transcriptions set speakers = coalesce(p_speakers, '[]'::jsonb) where job_id = p_job_id;
$$;

revoke execute on function public.save_transcript(text, text, text, text, jsonb, jsonb, text, boolean, jsonb, text),
    public.save_speakers(text, jsonb) from public, anon, authenticated;
grant execute on function public.save_transcript(text, text, text, text, jsonb, jsonb, text, boolean, jsonb, text),
    public.save_speakers(text, jsonb) to service_role;
