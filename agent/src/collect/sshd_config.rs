//! A reader for the few global settings of `sshd_config` the agent reports.
//!
//! It follows sshd's rules where they matter here: keywords are case-insensitive, the first
//! value obtained wins, `Keyword value` and `Keyword=value` are both accepted, and `Include`
//! reads the named files (sorted glob matches, as sshd does) in place. Relative `Include`
//! paths are taken from the main file's directory, which is `/etc/ssh` for a standard install.
//! Settings inside `Match` blocks apply only to some connections and are not reported.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{CollectError, error::read_text};

/// sshd itself refuses deeper `Include` nesting than this.
const MAX_INCLUDE_DEPTH: usize = 16;

/// The global settings read, keyed by lower-case keyword, first value kept.
#[derive(Debug, Default)]
pub struct SshdConfig {
    values: HashMap<String, String>,
}

impl SshdConfig {
    /// The value of `keyword` (any case), when set.
    pub fn get(&self, keyword: &str) -> Option<&str> {
        self.values
            .get(&keyword.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// Reads a main config file and the files it includes.
pub fn read(path: &Path) -> Result<SshdConfig, CollectError> {
    let base = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let mut config = SshdConfig::default();
    read_into(path, &base, 0, &mut config)?;
    Ok(config)
}

/// Returns whether a `Match` block was entered: from there on, nothing is global any more.
fn read_into(
    path: &Path,
    base: &Path,
    depth: usize,
    config: &mut SshdConfig,
) -> Result<bool, CollectError> {
    if depth > MAX_INCLUDE_DEPTH {
        return Err(CollectError::format(path, "Include nested too deeply"));
    }
    let text = read_text(path)?;
    for line in text.lines() {
        let Some((keyword, value)) = split_line(line) else {
            continue;
        };
        match keyword.as_str() {
            "match" => return Ok(true),
            "include" => {
                for pattern in value.split_whitespace() {
                    for file in expand_include(base, pattern) {
                        // An unreadable included file stops sshd too; report it the same way.
                        if read_into(&file, base, depth + 1, config)? {
                            return Ok(true);
                        }
                    }
                }
            }
            _ => {
                config.values.entry(keyword).or_insert(value);
            }
        }
    }
    Ok(false)
}

/// Splits `Keyword value`, `Keyword=value` or `Keyword = "value"`; skips comments and blanks.
fn split_line(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let (keyword, rest) = line.split_at(end);
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
    let value = rest
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(rest);
    Some((keyword.to_ascii_lowercase(), value.to_string()))
}

/// Expands one `Include` argument. Only the last path component may hold `*` or `?`, which
/// covers the usual `sshd_config.d/*.conf`; a pattern matching nothing is not an error.
fn expand_include(base: &Path, pattern: &str) -> Vec<PathBuf> {
    let full = if Path::new(pattern).is_absolute() {
        PathBuf::from(pattern)
    } else {
        base.join(pattern)
    };
    let name = full
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?']) {
        return if full.exists() {
            vec![full]
        } else {
            Vec::new()
        };
    }
    let dir = full.parent().unwrap_or(Path::new("/"));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut matches: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| glob_match(&name, &e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    matches.sort();
    matches
}

/// Matches `*` (any run) and `?` (one character), as fnmatch does for a file name.
fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_forms_and_first_value_wins() {
        assert_eq!(
            split_line("LogLevel=VERBOSE"),
            Some(("loglevel".into(), "VERBOSE".into()))
        );
        assert_eq!(
            split_line("  RevokedKeys = \"/etc/ssh/krl\" "),
            Some(("revokedkeys".into(), "/etc/ssh/krl".into()))
        );
        assert_eq!(split_line("# LogLevel DEBUG"), None);
    }

    #[test]
    fn globs_match_file_names() {
        assert!(glob_match("*.conf", "10-portal.conf"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("*.conf", "10-portal.conf.bak"));
    }
}
