-- A history page reads each login's end and earlier failures from log_session. With both
-- in the primary key's index, a page of a host's logins is answered from the index alone
-- (for rows vacuum has marked visible): a few index pages instead of one heap page per login,
-- since sessions are stored in arrival order, each host's spread over the whole table.
alter table log_session
    drop constraint log_session_pkey,
    add primary key (host_id, src_ip, src_port, login_at) include (ended_at, failures_before);
