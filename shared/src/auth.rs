//! Sign-in, sign-out and the signed-in person.

use serde::{Deserialize, Serialize};

/// `POST /api/session`: sign in with directory credentials.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// `alice`, `CORP\alice` or `alice@corp.example.test`.
    pub username: String,
    pub password: String,
}

/// A portal role, granted through directory groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May request SSH certificates for the principals their groups allow.
    User,
    /// May read the audit trail and login history of everyone.
    Auditor,
    /// May manage certificates, hosts and tokens.
    Admin,
}

impl Role {
    /// All roles, in the order they are shown.
    pub const ALL: [Role; 3] = [Role::User, Role::Auditor, Role::Admin];

    /// The lowercase name used in the API and the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
}

/// `GET /api/me`: who is signed in, and what they may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// The directory's canonical account name (sAMAccountName).
    pub username: String,
    /// The directory's objectGUID, in its usual braced-less text form.
    pub object_guid: String,
    pub display_name: Option<String>,
    pub mail: Option<String>,
    /// Every group the person belongs to, nested memberships included, by name.
    pub groups: Vec<String>,
    pub roles: Vec<Role>,
    /// SSH principals this person may request certificates for.
    pub principals: Vec<String>,
    /// When the session ends at the latest, in RFC 3339.
    pub session_expires_at: String,
}
