-- Browser sessions. Keyed by the SHA-256 of the session id, never the id itself.
create table web_session (
    id_hash     bytea primary key,
    data        jsonb not null,
    expires_at  timestamptz not null,
    username    text,
    created_at  timestamptz not null default now()
);

create index web_session_username_idx on web_session (lower(username));
create index web_session_expires_at_idx on web_session (expires_at);

-- Security-relevant actions: sign-ins and their failures, sign-outs, and later every
-- certificate and administrative action. Append-only.
create table audit_event (
    audit_event_id  bigint generated always as identity primary key,
    occurred_at     timestamptz not null default now(),
    event           text not null,
    outcome         text not null check (outcome in ('success', 'failure')),
    actor           text,
    subject         text,
    reason          text,
    source_addr     inet,
    user_agent      text,
    -- Whether a failed sign-in counts towards throttling.
    throttled       boolean not null default false,
    request_id      uuid,
    detail          jsonb not null default '{}'
);

create index audit_event_subject_idx on audit_event (event, subject, occurred_at);
create index audit_event_source_idx on audit_event (event, source_addr, occurred_at);
create index audit_event_occurred_at_idx on audit_event (occurred_at);
create index audit_event_actor_idx on audit_event (actor, occurred_at);
