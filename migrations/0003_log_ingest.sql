-- Hosts that send their secure logs. A host is known by the connection its lines arrive on
-- (a source address for syslog, a bearer token for HTTP), never by the HOSTNAME they carry.
create table ingest_host (
    host_id         bigint generated always as identity primary key,
    name            text not null unique
                    check (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$'),
    addresses       inet[] not null default '{}',
    created_at      timestamptz not null default now(),
    created_by      text not null,
    -- Ingest health, written once per stored batch.
    last_seen_at    timestamptz,
    last_event_at   timestamptz,
    lines_total     bigint not null default 0,
    rejected_total  bigint not null default 0
);

-- Bearer tokens for HTTP ingest, kept as their SHA-256 only.
create table ingest_token (
    token_id     bigint generated always as identity primary key,
    host_id      bigint not null references ingest_host (host_id) on delete cascade,
    token_hash   bytea not null unique,
    -- The first characters, so an admin can tell tokens apart.
    hint         text not null,
    created_at   timestamptz not null default now(),
    created_by   text not null,
    revoked_at   timestamptz,
    revoked_by   text
);

create index ingest_token_host_idx on ingest_token (host_id);

-- A sender's stream of numbered lines; a line is stored once per (stream, seq).
create table log_stream (
    stream_id  bigint generated always as identity primary key,
    host_id    bigint not null references ingest_host (host_id) on delete cascade,
    name       text not null,
    unique (host_id, name)
);

create table log_seq (
    stream_id    bigint not null references log_stream (stream_id) on delete cascade,
    seq          numeric(20, 0) not null,
    received_at  timestamptz not null default now(),
    primary key (stream_id, seq)
);

create index log_seq_received_idx on log_seq using brin (received_at);

-- Every line received, with what was read from it. Partitioned by the receive time, which
-- the portal controls (a sender's clock cannot put a row outside the partitions that exist);
-- searches use the event time. Partitions are made ahead and dropped after the retention.
create sequence log_event_id_seq as bigint;

create table log_event (
    event_id          bigint not null default nextval('log_event_id_seq'),
    received_at       timestamptz not null,
    event_at          timestamptz not null,
    host_id           bigint not null,
    transport         text not null check (transport in ('tcp', 'tls', 'udp', 'http')),
    claimed_hostname  text,
    program           text,
    pid               integer,
    kind              text not null,
    username          text,
    src_ip            inet,
    src_port          integer,
    method            text,
    key_type          text,
    key_fingerprint   text,
    key_id            text,
    serial            numeric(20, 0),
    ca_fingerprint    text,
    certificate_id    bigint,
    person            text,
    attribution       text check (attribution in
                          ('exact', 'inferred', 'suspicious', 'unattributed', 'non_ca')),
    reason            text,
    skew_secs         integer,
    flags             text[] not null default '{}',
    raw               text not null
) partition by range (received_at);

-- Indexes for what people search: a person's, a host's, an address's, a serial's and a
-- key's events by time. Free text has no index on purpose: a trigram index on every raw line
-- slows ingest many-fold, so free text narrows a search that the other filters and the time
-- range have already bounded.
create index log_event_person_idx on log_event (lower(person), event_at desc)
    where person is not null;
create index log_event_host_idx on log_event (host_id, event_at desc);
create index log_event_src_idx on log_event (src_ip, event_at desc) where src_ip is not null;
create index log_event_serial_idx on log_event (serial) where serial is not null;
create index log_event_key_idx on log_event (key_fingerprint) where key_fingerprint is not null;
create index log_event_time_idx on log_event using brin (event_at);
-- One sshd connection's lines (its failures, its login, its disconnect) share host, address
-- and port.
create index log_event_conn_idx on log_event (host_id, src_port, event_at)
    where src_port is not null;
