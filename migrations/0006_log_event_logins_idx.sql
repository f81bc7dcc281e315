-- A host's logins by time, the question asked most of the history ("who was on web01
-- yesterday"). The host index alone reads every line of the host in the range and keeps one
-- in eight; this one reads only the logins, and costs ingest an entry per login only.
create index log_event_host_logins_idx on log_event (host_id, event_at desc)
    where kind = 'accepted';
