-- How many publickey attempts the connection failed in the ten minutes before its login,
-- counted when the login is stored, so a page of history reads it with the session instead
-- of searching the partitions around each login.
alter table log_session add column failures_before bigint not null default 0;

update log_session s set failures_before = (
    select count(*) from log_event f
    where f.host_id = s.host_id and f.src_port = s.src_port and f.src_ip = s.src_ip
      and f.kind = 'failed' and f.event_at <= s.login_at
      and f.event_at > s.login_at - interval '10 minutes');
