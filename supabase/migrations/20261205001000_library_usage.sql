-- What hosted engines used for the library as a whole rather than for one job: answers to questions.
create table public.library_usage (
    stage text not null,
    engine text not null,
    model text not null,
    input_tokens integer not null default 0,
    output_tokens integer not null default 0,
    cost_usd double precision,
    created_at timestamptz not null default now()
);
alter table public.library_usage enable row level security;
create policy "library is readable" on public.library_usage for select to anon, authenticated
    using (public.library_is_public());
revoke all on public.library_usage from anon, authenticated;
grant select on public.library_usage to anon, authenticated;
grant all on public.library_usage to service_role;

create function public.add_library_usage(p_usage jsonb) returns void
    language sql set search_path = public as $$
    insert into public.library_usage (stage, engine, model, input_tokens, output_tokens, cost_usd)
    values (p_usage ->> 'stage', p_usage ->> 'engine', p_usage ->> 'model',
            coalesce((p_usage ->> 'input_tokens')::integer, 0), coalesce((p_usage ->> 'output_tokens')::integer, 0),
            (p_usage ->> 'cost_usd')::double precision);
$$;

-- Estimated dollars per stage ("ask": {"usd", "calls"}), for the priced calls.
create function public.library_costs() returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_object_agg(stage, jsonb_build_object('usd', usd, 'calls', calls)), '{}'::jsonb)
    from (select stage, sum(cost_usd) as usd, count(*) as calls from public.library_usage
          where cost_usd is not null group by stage) s;
$$;

revoke execute on function public.add_library_usage(jsonb) from public, anon, authenticated;
grant execute on function public.add_library_usage(jsonb) to service_role;
grant execute on function public.library_costs() to anon, authenticated, service_role;
