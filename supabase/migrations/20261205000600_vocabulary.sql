-- Words and names speech-to-text should expect, per collection; and what each transcript was told to expect
-- (its vocabulary and the prompt it made). save_transcript takes both (its old signature is dropped, not
-- overloaded: Supabase's REST API picks a function by its argument names).
alter table public.collections add column vocabulary jsonb not null default '[]'::jsonb;
alter table public.transcriptions add column vocabulary jsonb not null default '[]'::jsonb;
alter table public.transcriptions add column prompt text;

drop function public.save_transcript(text, text, text, text, jsonb);
create function public.save_transcript(p_job_id text, p_text text, p_language text, p_engine text,
                                       p_segments jsonb, p_vocabulary jsonb default '[]'::jsonb,
                                       p_prompt text default null) returns void
    language sql set search_path = public as $$
    delete from public.transcriptions where job_id = p_job_id;
    insert into public.transcriptions (job_id, text, language, engine, vocabulary, prompt)
    values (p_job_id, p_text, p_language, p_engine, coalesce(p_vocabulary, '[]'::jsonb), p_prompt);
    insert into public.segments (job_id, idx, start_seconds, end_seconds, text, words)
    select p_job_id, (s.ordinality - 1)::integer, (s.value ->> 'start')::double precision,
           (s.value ->> 'end')::double precision, s.value ->> 'text', nullif(s.value -> 'words', 'null'::jsonb)
    from jsonb_array_elements(p_segments) with ordinality as s;
$$;

create or replace function public.get_transcript(p_job_id text) returns jsonb
    language sql stable set search_path = public as $$
    select jsonb_build_object(
        'text', t.text, 'language', t.language, 'engine', t.engine, 'vocabulary', t.vocabulary, 'prompt', t.prompt,
        'segments', coalesce((select jsonb_agg(public.segment_json(s) order by s.idx)
                              from public.segments s where s.job_id = t.job_id), '[]'::jsonb))
    from public.transcriptions t where t.job_id = p_job_id;
$$;

-- The platforms the library's videos come from, without reading every job (the pages' platform filters).
create function public.job_platforms() returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(p.platform order by p.platform), '[]'::jsonb)
    from (select distinct platform from public.jobs) p;
$$;

create function public.set_collection_vocabulary(p_id text, p_words jsonb) returns void
    language sql set search_path = public as $$
    update public.collections set vocabulary = coalesce(p_words, '[]'::jsonb) where id = p_id;
$$;

revoke execute on function public.save_transcript(text, text, text, text, jsonb, jsonb, text),
    public.set_collection_vocabulary(text, jsonb) from public, anon, authenticated;
grant execute on function public.save_transcript(text, text, text, text, jsonb, jsonb, text),
    public.set_collection_vocabulary(text, jsonb) to service_role;
grant execute on function public.job_platforms() to anon, authenticated, service_role;
