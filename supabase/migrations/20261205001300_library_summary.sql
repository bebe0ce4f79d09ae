-- The Dashboard's numbers counted by the database: however large the library, the app reads a few rows.
-- p_query: {"platforms", "categories", "languages" (base: "en"), "collections", "job_ids", "date_from", "date_to"};
-- answers core.models.LibrarySummary's fields.
create function public.library_summary(p_query jsonb, p_top integer default 40, p_trend integer default 5)
    returns jsonb
    language sql stable set search_path = public as $$
    with wanted as (
        select nullif(array(select jsonb_array_elements_text(coalesce(p_query->'platforms', '[]'))), '{}') as platforms,
               nullif(array(select jsonb_array_elements_text(coalesce(p_query->'categories', '[]'))), '{}') as categories,
               nullif(array(select jsonb_array_elements_text(coalesce(p_query->'languages', '[]'))), '{}') as languages,
               nullif(array(select jsonb_array_elements_text(coalesce(p_query->'collections', '[]'))), '{}')
                   as collections,
               nullif(array(select jsonb_array_elements_text(coalesce(p_query->'job_ids', '[]'))), '{}') as job_ids,
               (p_query->>'date_from')::date as date_from, (p_query->>'date_to')::date as date_to
    ), kept as (
        select j.id, j.platform, coalesce(j.duration, 0) as duration,
               coalesce(j.upload_date, j.created_at::date)::text as day,
               left(coalesce(j.stage_times->>'completed', public.utc_text(j.updated_at)), 10) as processed_day,
               a.category, a.sentiment_label as sentiment, a.sentiment_score::float8 as score,
               split_part(replace(lower(coalesce(a.language, '')), '_', '-'), '-', 1) as language, a.topics
        from public.jobs j join public.analysis a on a.job_id = j.id, wanted w
        where j.status = 'completed'
          and (w.platforms is null or j.platform = any(w.platforms))
          and (w.categories is null or a.category = any(w.categories))
          and (w.languages is null or split_part(replace(lower(coalesce(a.language, '')), '_', '-'), '-', 1)
                                      = any(w.languages))
          and (w.collections is null or j.collection_id = any(w.collections))
          and (w.job_ids is null or j.id = any(w.job_ids))
          and (w.date_from is null or coalesce(j.upload_date, j.created_at::date) >= w.date_from)
          and (w.date_to is null or coalesce(j.upload_date, j.created_at::date) <= w.date_to)
    ), by_value as (
        select 'sentiment' as name, sentiment as value, count(*) as videos, avg(score) as score from kept group by 2
        union all select 'category', category, count(*), avg(score) from kept group by 2
        union all select 'platform', platform, count(*), avg(score) from kept group by 2
        union all select 'language', language, count(*), avg(score) from kept group by 2
        union all select 'processed_day', processed_day, count(*), avg(score) from kept group by 2
        union all select 'theme', coalesce(tv.theme_id, ''), count(*), avg(score)
                  from kept left join public.theme_videos tv on tv.job_id = kept.id group by 2
    ), topic as (
        select lower(t.value) as value, kept.id, left(kept.day, 7) as month
        from kept, jsonb_array_elements_text(kept.topics) t(value)
        group by 1, 2, 3
    ), top as (
        select value, count(*) as videos from topic group by value order by 2 desc, 1 limit p_top
    )
    select jsonb_build_object(
        'videos', (select count(*) from kept),
        'seconds', (select coalesce(sum(duration), 0) from kept),
        'score', (select coalesce(avg(score), 0) from kept),
        'job_ids', (select coalesce(jsonb_agg(id order by id), '[]') from kept),
        'by', (select coalesce(jsonb_object_agg(name, tallies), '{}') from (
                  select name, jsonb_agg(jsonb_build_object('value', value, 'videos', videos, 'score', score)
                                         order by videos desc, value) as tallies
                  from by_value group by name) grouped),
        'theme_months', (select coalesce(jsonb_agg(jsonb_build_object('value', theme_id, 'month', month,
                                                                      'videos', videos) order by theme_id, month), '[]')
                         from (select tv.theme_id, left(kept.day, 7) as month, count(*) as videos
                               from kept join public.theme_videos tv on tv.job_id = kept.id group by 1, 2) m),
        'topics', (select coalesce(jsonb_agg(jsonb_build_object('value', value, 'videos', videos)
                                             order by videos desc, value), '[]') from top),
        'topic_months', (select coalesce(jsonb_agg(jsonb_build_object('value', value, 'month', month,
                                                                      'videos', videos) order by value, month), '[]')
                         from (select topic.value, topic.month, count(*) as videos from topic
                               where topic.value in (select value from top order by videos desc, value limit p_trend)
                               group by 1, 2) m));
$$;

grant execute on function public.library_summary(jsonb, integer, integer) to anon, authenticated, service_role;
