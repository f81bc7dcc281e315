//! File descriptors: the system's handle table and the processes nearest their own limit.

use std::path::Path;

use opsportal_shared::health::{FdReport, ProcessFds, SystemFiles};

use super::processes::{self, FdUse};
use super::{CollectError, error::read_text};

/// Keeps the `top` processes with the highest ratio of open descriptors to soft limit,
/// highest first; ties go to the process with more descriptors open.
pub fn top_by_ratio(mut all: Vec<FdUse>, top: usize) -> Vec<FdUse> {
    all.sort_by(|a, b| {
        ratio(b)
            .total_cmp(&ratio(a))
            .then(b.open_fds.cmp(&a.open_fds))
    });
    all.truncate(top);
    all
}

/// How close a process is to its limit; an unlimited process is never close.
pub fn ratio(fds: &FdUse) -> f64 {
    match fds.soft_limit {
        Some(limit) if limit > 0 => fds.open_fds as f64 / limit as f64,
        Some(_) => f64::INFINITY,
        None => 0.0,
    }
}

/// Reads `/proc/sys/fs/file-nr`: allocated handles, free handles (always 0 since 2.6), maximum.
pub fn system_files(path: &Path) -> Result<SystemFiles, CollectError> {
    let text = read_text(path)?;
    let fields: Vec<u64> = text
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|e| CollectError::format(path, format!("not a number: {e}")))?;
    match fields.as_slice() {
        [allocated, _free, max] => Ok(SystemFiles {
            allocated: *allocated,
            max: *max,
        }),
        _ => Err(CollectError::format(path, "expected three numbers")),
    }
}

/// Builds the report's descriptor section from a process walk, naming the processes it
/// keeps; one that exited since the walk is left out.
pub fn report(system: Option<SystemFiles>, all: Vec<FdUse>, top: usize) -> FdReport {
    let top = top_by_ratio(all, top)
        .into_iter()
        .filter_map(|fds| {
            Some(ProcessFds {
                process: processes::process_ref(fds.pid)?,
                open_fds: fds.open_fds,
                soft_limit: fds.soft_limit,
            })
        })
        .collect();
    FdReport { system, top }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fds(pid: u32, open_fds: u64, soft_limit: Option<u64>) -> FdUse {
        FdUse {
            pid,
            open_fds,
            soft_limit,
        }
    }

    #[test]
    fn highest_ratio_first_and_unlimited_last() {
        let all = vec![
            fds(1, 10, Some(1024)),
            fds(2, 60, Some(64)),
            fds(3, 5000, None),
        ];
        let pids: Vec<u32> = top_by_ratio(all, 2).iter().map(|f| f.pid).collect();
        assert_eq!(pids, [2, 1]);
    }

    #[test]
    fn the_report_names_what_it_keeps_and_leaves_out_the_gone() {
        let me = std::process::id();
        // Above the kernel's pid_max (at most 2^22), so never a live process.
        let gone = 5_000_000;
        let report = report(
            None,
            vec![fds(gone, 99, Some(100)), fds(me, 1, Some(100))],
            5,
        );
        assert_eq!(report.top.len(), 1);
        assert_eq!(report.top[0].process.pid, me);
        let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
        assert_eq!(report.top[0].process.comm, comm.trim_end());
    }

    #[test]
    fn reads_file_nr() {
        let system = system_files(Path::new("/proc/sys/fs/file-nr")).unwrap();
        assert!(system.allocated > 0, "this test process has files open");
        assert!(system.max >= system.allocated);
    }
}
