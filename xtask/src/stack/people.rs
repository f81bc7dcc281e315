//! The demo directory: groups for each role and zone, and people who exercise every case the
//! portal must handle. Passwords here are for the throwaway demo domain only.

use xtask::stack_info::Person;

/// Groups, and the groups each is a member of (nesting).
pub const GROUPS: [(&str, &[&str]); 10] = [
    ("opsportal-users", &[]),
    ("opsportal-auditors", &[]),
    ("opsportal-admins", &[]),
    // Members of ops-team are admins only through nesting.
    ("ops-team", &["opsportal-admins"]),
    ("ssh-webservers", &[]),
    ("ssh-databases", &[]),
    ("ssh-root-everywhere", &[]),
    ("no-portal-access", &[]),
    // A membership cycle the directory must cope with.
    ("loop-a", &["loop-b"]),
    ("loop-b", &["loop-a"]),
];

/// The portal's service account.
pub const SERVICE_ACCOUNT: &str = "svc-portal";
pub const SERVICE_PASSWORD: &str = "Svc-Portal-Pass-2026!";
pub const ADMIN_PASSWORD: &str = "Domain-Admin-Pass-2026!";

fn person(username: &str, display: &str, groups: &[&str], note: &str) -> Person {
    let mut password: String = username[..1].to_uppercase();
    password.push_str(&username[1..]);
    password.push_str("-Pass-2026!");
    Person {
        username: username.to_owned(),
        password,
        display_name: display.to_owned(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        note: note.to_owned(),
        disabled: false,
        expired: false,
        must_change_password: false,
    }
}

/// Everyone in the demo directory.
pub fn people() -> Vec<Person> {
    let mut people = vec![
        person(
            "alice",
            "Alice Archer",
            &["opsportal-users", "ssh-webservers", "loop-a"],
            "user: root and zone-webservers",
        ),
        person(
            "bob",
            "Bob Baker",
            &["opsportal-users", "ops-team", "ssh-root-everywhere"],
            "admin through a nested group; root-everywhere",
        ),
        person("carol", "Carol Chen", &["opsportal-auditors"], "auditor"),
        person(
            "grace",
            "Grace Green",
            &["opsportal-users", "ssh-databases"],
            "user: root and zone-databases",
        ),
        person(
            "mallory",
            "Mallory Moss",
            &["no-portal-access"],
            "in no portal group",
        ),
        person(
            "dave",
            "Dave Dunn",
            &["opsportal-users"],
            "disabled account",
        ),
        person(
            "erin",
            "Erin Ellis",
            &["opsportal-users"],
            "expired account",
        ),
        person(
            "frank",
            "Frank Fox",
            &["opsportal-users"],
            "must change password",
        ),
    ];
    // Accounts the tests use for failed sign-ins, one per test, so that AD's bad-password
    // counters of one test never affect another.
    for (name, note) in [
        ("wendy", "tests: wrong password"),
        ("nina", "tests: empty password"),
        ("tina", "tests: sign-in throttling"),
        ("lena", "tests: locked out by the directory"),
        ("uma", "tests: sessions"),
        ("victor", "tests: sessions"),
        ("yann", "tests: spellings of a name"),
        ("zoe", "tests: browser"),
    ] {
        let display = format!("{}{} Tester", name[..1].to_uppercase(), &name[1..]);
        people.push(person(
            name,
            &display,
            &["opsportal-users", "ssh-webservers"],
            note,
        ));
    }
    for p in &mut people {
        match p.username.as_str() {
            "dave" => p.disabled = true,
            "erin" => p.expired = true,
            "frank" => p.must_change_password = true,
            _ => {}
        }
    }
    people
}
