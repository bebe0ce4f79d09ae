-- What a search hit shows of each moment found, in one call: the segment (with its translation and the name of
-- who says it), its video, the video's thumbnail and the language it is spoken in. A search read these in four
-- calls at once (the segments with their word timings, the jobs, the audio files, the whole analyses), which on
-- these machines took 2 ms of each search, more than one call; against Supabase's REST API each is a round trip.
create function public.found_moments(p_job_ids text[], p_idxs integer[]) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(jsonb_build_object(
               'segment', jsonb_build_object(
                   'job_id', s.job_id, 'idx', s.idx, 'start', s.start_seconds, 'end', s.end_seconds, 'text', s.text,
                   'speaker', s.speaker, 'translation', t.text, 'translation_language', tr.language,
                   'speaker_name', (select sp ->> 'name' from public.transcriptions w
                                    cross join lateral jsonb_array_elements(w.speakers) sp
                                    where w.job_id = s.job_id and sp ->> 'id' = s.speaker limit 1)),
               'job', public.job_json(j),
               'thumbnail_path', f.thumbnail_path,
               'language', a.language)), '[]'::jsonb)
    from unnest(p_job_ids, p_idxs) as k(job_id, idx)
    join public.segments s on s.job_id = k.job_id and s.idx = k.idx
    join public.jobs j on j.id = s.job_id
    left join public.translation_segments t on t.job_id = s.job_id and t.idx = s.idx
    left join public.translations tr on tr.job_id = t.job_id
    left join public.audio_files f on f.job_id = s.job_id
    left join public.analysis a on a.job_id = s.job_id;
$$;

grant execute on function public.found_moments(text[], integer[]) to anon, authenticated, service_role;
