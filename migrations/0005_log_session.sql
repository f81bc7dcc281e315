-- One row per accepted sshd login with a source address and port, ended when its
-- connection's disconnect arrives. Without it, a history page looks for each login's end in
-- every partition after the login, one probe per partition per login; with it, one lookup.
create table log_session (
    host_id      bigint not null,
    src_ip       inet not null,
    src_port     integer not null,
    login_at     timestamptz not null,
    received_at  timestamptz not null,
    ended_at     timestamptz,
    primary key (host_id, src_ip, src_port, login_at)
);

-- Retention deletes by arrival, as it drops the log_event partitions.
create index log_session_received_idx on log_session using brin (received_at);

-- Logins stored before this table existed, with the end their lines already show.
insert into log_session (host_id, src_ip, src_port, login_at, received_at, ended_at)
select e.host_id, e.src_ip, e.src_port, e.event_at, min(e.received_at),
    (select min(d.event_at) from log_event d
      where d.host_id = e.host_id and d.src_port = e.src_port and d.src_ip = e.src_ip
        and d.kind in ('disconnected', 'connection_closed')
        and d.event_at >= e.event_at)
from log_event e
where e.kind = 'accepted' and e.src_ip is not null and e.src_port is not null
group by e.host_id, e.src_ip, e.src_port, e.event_at;
