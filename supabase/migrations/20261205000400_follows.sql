-- Channels, playlists and feeds followed (core/jobs/follows.py): each a JSON document, with when it is next
-- checked. Workers check them; reading them is as public as the rest of the library.
create table public.follows (
    id text primary key,
    url text not null unique,
    data jsonb not null,
    next_check_at timestamptz not null
);
create index follows_due on public.follows (next_check_at);
alter table public.follows enable row level security;
create policy "library is readable" on public.follows for select to anon, authenticated
    using (public.library_is_public());
grant select on public.follows to anon, authenticated;
grant all on public.follows to service_role;

create function public.save_follow(p_follow jsonb) returns void
    language sql set search_path = public as $$
    insert into public.follows (id, url, data, next_check_at)
    values (p_follow->>'id', p_follow->>'url', p_follow, (p_follow->>'next_check_at')::timestamptz)
    on conflict (id) do update set url = excluded.url, data = excluded.data, next_check_at = excluded.next_check_at;
$$;

create function public.get_follows(p_ids text[] default null) returns jsonb
    language sql stable set search_path = public as $$
    select coalesce(jsonb_agg(f.data order by f.data->>'created_at', f.id), '[]'::jsonb)
    from public.follows f where p_ids is null or f.id = any(p_ids);
$$;

create function public.delete_follow(p_id text) returns void
    language sql set search_path = public as $$
    delete from public.follows where id = p_id;
$$;

revoke execute on function public.save_follow(jsonb), public.delete_follow(text) from public, anon, authenticated;
grant execute on function public.save_follow(jsonb), public.delete_follow(text) to service_role;
grant execute on function public.get_follows(text[]) to anon, authenticated, service_role;
