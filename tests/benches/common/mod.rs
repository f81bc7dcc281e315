//! What the benchmarks share: the portal as a process of its own, on a fresh database, and the
//! CPU time a process has used.

pub use crate::support::process::Portal;

/// utime + stime of `pid`, in clock ticks (1/100 s).
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are the line's fields 14 and 15: 11 and 12 counted from 0 after the name.
    field(11) + field(12)
}
