-- Every certificate the portal asked a signer for. A row is written before the signer is
-- called (state 'signing'), so a crash between signing and recording leaves a trace; it
-- becomes 'issued' only once the certificate has been verified and recorded, 'failed' when
-- nothing was signed, 'rejected' when the signer returned a certificate that broke the policy.
create table certificate (
    certificate_id      bigint generated always as identity primary key,
    state               text not null check (state in ('signing', 'issued', 'failed', 'rejected')),
    username            text not null,
    object_guid         text not null,
    principals          text[] not null,
    requested_ttl_secs  integer not null check (requested_ttl_secs > 0),
    key_fingerprint     text not null,
    public_key          text not null,
    backend             text not null,
    client_addr         inet,
    user_agent          text,
    request_id          uuid,
    created_at          timestamptz not null default now(),
    -- Filled when issued. Serials are unsigned 64-bit: numeric, not bigint.
    serial              numeric(20, 0) check (serial > 0 and serial <= 18446744073709551615),
    key_id              text,
    ca_fingerprint      text,
    ca_public_key       text,
    valid_after         timestamptz,
    valid_before        timestamptz,
    certificate         text,
    issued_at           timestamptz,
    failure             text,
    revoked_at          timestamptz,
    revoked_by          text,
    revoke_reason       text,
    check (state <> 'issued' or (serial is not null and key_id is not null
        and ca_fingerprint is not null and ca_public_key is not null and valid_after is not null
        and valid_before is not null and certificate is not null))
);

create unique index certificate_ca_serial_idx on certificate (ca_fingerprint, serial)
    where serial is not null;
create index certificate_username_idx on certificate (lower(username), created_at desc);
create index certificate_key_idx on certificate (key_fingerprint);
create index certificate_created_idx on certificate (created_at desc);

-- Which person a public key belongs to: the first who had it certified. Another person's
-- request with the same key is refused.
create table key_owner (
    key_fingerprint  text primary key,
    username         text not null,
    first_seen_at    timestamptz not null default now()
);

-- Public keys an admin revoked: every certificate for them is in the revocation list, and
-- no new one is signed.
create table revoked_key (
    key_fingerprint  text primary key,
    public_key       text not null,
    revoked_at       timestamptz not null default now(),
    revoked_by       text not null,
    reason           text
);
