//! Naming the person behind a login on a shared account.
//!
//! A certificate login is matched on what sshd checked and wrote: the serial and the CA's
//! fingerprint, looked up in the portal's own record of issued certificates, with the key's
//! fingerprint compared where sshd logged it. The Key ID is text the issuer chose; it is only
//! read when the registry has no match, and a person found that way is marked inferred.
//!
//! - `exact`: the registry issued this serial under this CA, for this key;
//! - `suspicious`: the registry knows the serial under this CA, but for another key;
//! - `inferred`: not in the registry; the Key ID has the shape Vault or the portal gives;
//! - `unattributed`: a certificate nobody can be named for;
//! - `non_ca`: a plain key or a password on the shared account.

use std::collections::{BTreeSet, HashMap};

use sqlx::PgPool;

use super::event::EventRow;

/// What the registry holds for one issued certificate.
struct Issued {
    certificate_id: i64,
    username: String,
    key_fingerprint: String,
}

/// Fills `person`, `certificate_id` and `attribution` for the logins in `rows`.
pub async fn attribute(db: &PgPool, rows: &mut [EventRow]) -> Result<(), sqlx::Error> {
    let wanted: BTreeSet<(&str, u64)> = rows
        .iter()
        .filter_map(|row| Some((row.ca_fingerprint.as_deref()?, row.serial?)))
        .collect();
    let issued = if wanted.is_empty() {
        HashMap::new()
    } else {
        lookup(db, &wanted).await?
    };
    for row in rows.iter_mut() {
        attribute_row(row, &issued);
    }
    Ok(())
}

/// The issued certificates among `wanted` (CA fingerprint, serial) pairs.
///
/// A batch names few CAs and many logins of the same certificates, so the query asks for the
/// distinct CAs and serials as two arrays, which the `(ca_fingerprint, serial)` index answers
/// directly, and the pairs are matched here. (A join with the pairs unnested let the planner
/// compare every pair with every certificate, which cost most of the database's time spent
/// on ingest.)
async fn lookup(
    db: &PgPool,
    wanted: &BTreeSet<(&str, u64)>,
) -> Result<HashMap<(String, u64), Issued>, sqlx::Error> {
    let cas: BTreeSet<&str> = wanted.iter().map(|(ca, _)| *ca).collect();
    let serials: BTreeSet<u64> = wanted.iter().map(|(_, serial)| *serial).collect();
    let found: Vec<(i64, String, String, String, String)> = sqlx::query_as(
        "select certificate_id, username, key_fingerprint, ca_fingerprint, serial::text
         from certificate
         where ca_fingerprint = any($1) and serial = any($2::numeric[]) and state = 'issued'",
    )
    .bind(cas.into_iter().collect::<Vec<_>>())
    .bind(serials.iter().map(u64::to_string).collect::<Vec<_>>())
    .fetch_all(db)
    .await?;
    Ok(found
        .into_iter()
        .filter_map(|(certificate_id, username, key_fingerprint, ca, serial)| {
            let serial: u64 = serial.parse().ok()?;
            if !wanted.contains(&(ca.as_str(), serial)) {
                return None;
            }
            let issued = Issued {
                certificate_id,
                username,
                key_fingerprint,
            };
            Some(((ca, serial), issued))
        })
        .collect())
}

fn attribute_row(row: &mut EventRow, issued: &HashMap<(String, u64), Issued>) {
    if let (Some(ca), Some(serial)) = (&row.ca_fingerprint, row.serial) {
        match issued.get(&(ca.clone(), serial)) {
            Some(found) => {
                row.certificate_id = Some(found.certificate_id);
                row.person = Some(found.username.clone());
                let same_key = row
                    .key_fingerprint
                    .as_deref()
                    .is_none_or(|logged| logged == found.key_fingerprint);
                row.attribution = Some(if same_key { "exact" } else { "suspicious" });
            }
            None => {
                row.person = row.key_id.as_deref().and_then(person_from_key_id);
                row.attribution = Some(if row.person.is_some() {
                    "inferred"
                } else {
                    "unattributed"
                });
            }
        }
    } else if row.is_login() && row.method.is_some() && row.kind == "accepted" {
        row.attribution = Some("non_ca");
    }
}

/// The person a Key ID names, for the shapes Vault (`vault-<mount>-<user>-<hash>`) and the
/// portal's own CA (`portal-<user>-<hash>`) give, where `<hash>` is hex.
pub fn person_from_key_id(key_id: &str) -> Option<String> {
    let (rest, hash) = key_id.rsplit_once('-')?;
    if hash.is_empty() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let user = if let Some(rest) = rest.strip_prefix("vault-") {
        rest.split_once('-')?.1
    } else {
        rest.strip_prefix("portal-")?
    };
    let valid = !user.is_empty()
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    valid.then(|| user.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_of_vault_and_the_portal_name_their_person() {
        let cases = [
            ("vault-jwt-alice-c1e5ab77", Some("alice")),
            ("vault-ldap-jane-doe-00ff", Some("jane-doe")),
            ("portal-bob-0123456789abcdef", Some("bob")),
            ("vault-jwt-alice-nothex", None),
            ("vault-jwt--abcd", None),
            ("someone-else-abcd", None),
            ("portal-<script>-abcd", None),
            ("", None),
        ];
        for (key_id, person) in cases {
            assert_eq!(person_from_key_id(key_id).as_deref(), person, "{key_id}");
        }
    }
}
