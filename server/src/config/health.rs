//! Host health: how much one agent report may hold, and the thresholds of the rules that turn
//! reports into findings. How long reports are kept is under `[ingest]`
//! (`health_retention_days`, `health_raw_days`), next to the log partitions.

use serde::Deserialize;

use super::ConfigError;

/// `[health]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthConfig {
    /// Largest report body, in bytes; larger ones are answered 413.
    #[serde(default = "defaults::max_report_bytes")]
    pub max_report_bytes: usize,
    /// Most listening sockets in one report.
    #[serde(default = "defaults::max_listeners")]
    pub max_listeners: usize,
    /// Most processes in one report's descriptor top list.
    #[serde(default = "defaults::max_top_processes")]
    pub max_top_processes: usize,
    /// Most IPVS virtual services in one report.
    #[serde(default = "defaults::max_ipvs_services")]
    pub max_ipvs_services: usize,
    /// A process whose open descriptors reach this share of its soft limit is a warning.
    #[serde(default = "defaults::fd_warning_ratio")]
    pub fd_warning_ratio: f64,
    /// ... and this share is critical.
    #[serde(default = "defaults::fd_critical_ratio")]
    pub fd_critical_ratio: f64,
    /// Open descriptors that have not fallen for this many reports in a row ...
    #[serde(default = "defaults::fd_rising_reports")]
    pub fd_rising_reports: u32,
    /// ... and grew by at least this many meanwhile, are a warning (a likely leak).
    #[serde(default = "defaults::fd_rising_min_growth")]
    pub fd_rising_min_growth: u64,
    /// IPVS connections above this many times the connection table's size are a warning.
    #[serde(default = "defaults::ipvs_conn_factor")]
    pub ipvs_conn_factor: f64,
    /// Listen overflows per second above this are critical (0: any overflow).
    #[serde(default)]
    pub overflow_rate_per_sec: f64,
    /// A host with no report for this many of its intervals has stopped reporting.
    #[serde(default = "defaults::silent_after_intervals")]
    pub silent_after_intervals: u32,
    /// Seconds hosts get to fetch the revocation list after a revocation before a host whose
    /// copy is older is reported.
    #[serde(default = "defaults::krl_grace_secs")]
    pub krl_grace_secs: u64,
}

mod defaults {
    pub fn max_report_bytes() -> usize {
        1024 * 1024
    }
    pub fn max_listeners() -> usize {
        1000
    }
    pub fn max_top_processes() -> usize {
        100
    }
    pub fn max_ipvs_services() -> usize {
        1000
    }
    pub fn fd_warning_ratio() -> f64 {
        0.8
    }
    pub fn fd_critical_ratio() -> f64 {
        0.95
    }
    // Five minutes at the agent's 10 s interval.
    pub fn fd_rising_reports() -> u32 {
        30
    }
    pub fn fd_rising_min_growth() -> u64 {
        30
    }
    pub fn ipvs_conn_factor() -> f64 {
        4.0
    }
    pub fn silent_after_intervals() -> u32 {
        3
    }
    // Hosts are told to fetch the list every minute.
    pub fn krl_grace_secs() -> u64 {
        300
    }
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            max_report_bytes: defaults::max_report_bytes(),
            max_listeners: defaults::max_listeners(),
            max_top_processes: defaults::max_top_processes(),
            max_ipvs_services: defaults::max_ipvs_services(),
            fd_warning_ratio: defaults::fd_warning_ratio(),
            fd_critical_ratio: defaults::fd_critical_ratio(),
            fd_rising_reports: defaults::fd_rising_reports(),
            fd_rising_min_growth: defaults::fd_rising_min_growth(),
            ipvs_conn_factor: defaults::ipvs_conn_factor(),
            overflow_rate_per_sec: 0.0,
            silent_after_intervals: defaults::silent_after_intervals(),
            krl_grace_secs: defaults::krl_grace_secs(),
        }
    }
}

impl HealthConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |setting: &str, problem: &str| {
            Err(ConfigError::invalid(&format!("health.{setting}"), problem))
        };
        if self.max_report_bytes < 4096 {
            return invalid("max_report_bytes", "must be at least 4096");
        }
        for (setting, value) in [
            ("max_listeners", self.max_listeners),
            ("max_top_processes", self.max_top_processes),
            ("max_ipvs_services", self.max_ipvs_services),
        ] {
            if value == 0 {
                return invalid(setting, "must be at least 1");
            }
        }
        let share = |v: f64| v.is_finite() && v > 0.0 && v <= 1.0;
        if !share(self.fd_warning_ratio) {
            return invalid("fd_warning_ratio", "must be above 0 and at most 1");
        }
        if !share(self.fd_critical_ratio) || self.fd_critical_ratio < self.fd_warning_ratio {
            return invalid(
                "fd_critical_ratio",
                "must be at most 1 and at least fd_warning_ratio",
            );
        }
        if self.fd_rising_reports < 2 {
            return invalid("fd_rising_reports", "must be at least 2");
        }
        if !self.ipvs_conn_factor.is_finite() || self.ipvs_conn_factor <= 0.0 {
            return invalid("ipvs_conn_factor", "must be above 0");
        }
        if !self.overflow_rate_per_sec.is_finite() || self.overflow_rate_per_sec < 0.0 {
            return invalid("overflow_rate_per_sec", "must be 0 or more");
        }
        if self.silent_after_intervals < 2 {
            return invalid("silent_after_intervals", "must be at least 2");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_thresholds_are_named() {
        assert!(HealthConfig::default().validate().is_ok());
        let config = HealthConfig {
            fd_critical_ratio: 0.5,
            ..HealthConfig::default()
        };
        let error = config.validate().unwrap_err().to_string();
        assert!(error.starts_with("health.fd_critical_ratio:"), "{error}");
        let config = HealthConfig {
            ipvs_conn_factor: f64::NAN,
            ..HealthConfig::default()
        };
        let error = config.validate().unwrap_err().to_string();
        assert!(error.starts_with("health.ipvs_conn_factor:"), "{error}");
    }
}
