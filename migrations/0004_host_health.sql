-- Host health reports pushed by opsportal-agent (POST /api/ingest/metrics).

-- One row per (host, agent): the highest report number stored and what the next report's
-- rates and trends are computed from.
--
-- Reports are stored once per (host_id, agent_id, seq). A unique index on the partitioned
-- health_report would have to include the partition key (received_at), and a report sent
-- again is received at another time, so such an index could not catch it. The agent sends its
-- spool strictly oldest first, so the highest number stored is enough: a report whose number
-- is not above it is a copy. The row is locked for the length of the insert, so a copy sent
-- while the first is still being written waits and then finds the number taken. One row per
-- agent stays small, where a claim per report (like log_seq) would grow by 17 million rows a
-- day at 2000 hosts.
create table health_agent (
    host_id             bigint not null references ingest_host (host_id) on delete cascade,
    agent_id            text not null,
    last_seq            numeric(20, 0) not null,
    last_received_at    timestamptz,
    -- The previous report's raw counters and the host's time of it, for rates.
    last_collected_at   timestamptz,
    last_overflows      bigint,
    last_drops          bigint,
    -- Per top process: how long its open descriptors have gone without falling.
    fd_trend            jsonb not null default '{}',
    primary key (host_id, agent_id)
);

-- Each report's numbers, partitioned by receive time (which the portal controls) into daily
-- partitions like log_event; charts use `at`, the host's collection time, never later than
-- the receive time. Listeners and top processes are kept as parallel arrays, a fraction of
-- the size of one row or one JSON object each.
create table health_report (
    received_at         timestamptz not null,
    at                  timestamptz not null,
    host_id             bigint not null,
    agent_id            text not null,
    seq                 numeric(20, 0) not null,
    interval_secs       integer not null,
    listen_overflows    bigint,
    listen_drops        bigint,
    -- Since the previous report of the same agent; a counter that fell counts from zero.
    overflow_delta      bigint,
    overflow_rate       double precision,
    drop_rate           double precision,
    files_allocated     bigint,
    files_max           bigint,
    ipvs_loaded         boolean not null,
    ipvs_connections    bigint,
    ipvs_table_size     bigint,
    -- The worst listener's accept queue over its backlog, the worst process's descriptors
    -- over its soft limit.
    queue_ratio_max     double precision,
    fd_ratio_max        double precision,
    listener_local      text[] not null,
    listener_comm       text[] not null,
    listener_queue      integer[] not null,
    listener_backlog    bigint[] not null,
    fd_pid              integer[] not null,
    fd_comm             text[] not null,
    fd_open             bigint[] not null,
    -- NULL where the process has no soft limit.
    fd_limit            bigint[] not null,
    spool_dropped       bigint not null,
    rejected            bigint not null
) partition by range (received_at);

create index health_report_host_idx on health_report (host_id, at);

-- The latest report of each host, whole, with the findings computed when it arrived. The
-- fleet page reads only this table.
create table health_latest (
    host_id             bigint primary key references ingest_host (host_id) on delete cascade,
    agent_id            text not null,
    seq                 numeric(20, 0) not null,
    received_at         timestamptz not null,
    collected_at        timestamptz not null,
    agent_version       text not null,
    hostname            text not null,
    interval_secs       integer not null,
    findings            jsonb not null,
    ssh                 jsonb not null,
    -- When the host's RevokedKeys file was last written, by the portal's clock; compared with
    -- the latest revocation when the fleet is read.
    krl_written_at      timestamptz,
    report              jsonb not null
);

-- Raw reports older than `ingest.health_raw_days`, rolled up per host and hour (by `at`),
-- kept for `ingest.health_retention_days`.
create table health_hourly (
    host_id                 bigint not null references ingest_host (host_id) on delete cascade,
    hour                    timestamptz not null,
    reports                 integer not null,
    queue_ratio_max         double precision,
    fd_ratio_max            double precision,
    files_ratio_max         double precision,
    overflow_delta          bigint,
    overflow_rate_max       double precision,
    drop_rate_max           double precision,
    ipvs_connections_max    bigint,
    ipvs_table_size         bigint,
    primary key (host_id, hour)
);
