//! The arithmetic of the health charts, kept apart from drawing so that it can be tested: where
//! a time or a value lands in the drawing, which round values label the axes, and how a value
//! reads beside its tick.
//!
//! Every chart and the login strip share one width and the same margins left and right, so
//! that a moment sits at the same x in all of them when they are stacked.

use opsportal_shared::health::Point;

/// Width of every chart's drawing, in SVG user units.
pub const WIDTH: f64 = 960.0;
/// Room left of the plot for the value labels.
pub const LEFT: f64 = 56.0;
/// Room right of the plot, so that the last time label is not cut.
pub const RIGHT: f64 = 20.0;

/// The time a chart spans, in seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeAxis {
    pub from: i64,
    pub to: i64,
}

impl TimeAxis {
    /// The x of `t`, clamped to the plot.
    pub fn x(&self, t: i64) -> f64 {
        let span = (self.to - self.from).max(1) as f64;
        let share = ((t - self.from) as f64 / span).clamp(0.0, 1.0);
        LEFT + share * (WIDTH - LEFT - RIGHT)
    }

    /// Where the time labels go: multiples of a round step in local time (`offset_secs` east
    /// of UTC), at most six of them. The step comes back too; it decides how a label reads.
    pub fn ticks(&self, offset_secs: i64) -> (i64, Vec<i64>) {
        const STEPS: [i64; 12] = [
            60, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800,
        ];
        let span = (self.to - self.from).max(1);
        let step = STEPS
            .into_iter()
            .find(|step| span / step <= 6)
            .unwrap_or(604_800);
        let first = (self.from + offset_secs).div_euclid(step) * step - offset_secs;
        let ticks = (0..)
            .map(|i| first + i * step)
            .skip_while(|t| *t < self.from)
            .take_while(|t| *t <= self.to)
            .collect();
        (step, ticks)
    }
}

/// The value axis: round ticks from zero to at least `max`, three or four of them.
pub fn value_ticks(max: f64) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    // The smallest 1, 2 or 5 times a power of ten that covers the range in three steps or fewer.
    let raw = max / 3.0;
    let magnitude = 10f64.powi(raw.log10().floor() as i32);
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude);
    let steps = (max / step - 1e-9).ceil().max(1.0) as usize;
    (0..=steps).map(|i| i as f64 * step).collect()
}

/// The y of `value` in a plot from `top` (at `top_value`) down to `bottom` (at zero).
pub fn y(value: f64, top_value: f64, top: f64, bottom: f64) -> f64 {
    let share = (value / top_value.max(f64::MIN_POSITIVE)).clamp(0.0, 1.0);
    bottom - share * (bottom - top)
}

/// A series as the `points` attribute of an SVG polyline.
pub fn polyline(points: &[Point], axis: TimeAxis, top_value: f64, top: f64, bottom: f64) -> String {
    points
        .iter()
        .map(|p| {
            let (x, y) = (axis.x(p.t), y(p.value, top_value, top, bottom));
            format!("{},{}", fixed(x, 1), fixed(y, 1))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a chart's values are, for their labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A share of a limit, shown as a percentage.
    Ratio,
    PerSecond,
    Count,
}

/// `0.8` as `80%`, `2.5` as `2.5/s`, `12000` as `12k`: short enough for an axis label.
pub fn label(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Ratio => format!("{}%", short(value * 100.0)),
        Unit::PerSecond => format!("{}/s", short(value)),
        Unit::Count => short(value),
    }
}

fn short(value: f64) -> String {
    let (scaled, suffix) = match value.abs() {
        v if v >= 1e6 => (value / 1e6, "M"),
        v if v >= 1e4 => (value / 1e3, "k"),
        _ => (value, ""),
    };
    let text = fixed(scaled, 2);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{suffix}")
}

/// `value` with `decimals` digits after the point, rounded. Written with integers: the
/// standard library's float formatting would add its whole algorithm to the web app.
pub fn fixed(value: f64, decimals: u32) -> String {
    let factor = 10u64.pow(decimals);
    let scaled = (value * factor as f64).round() as i64;
    let sign = if scaled < 0 { "-" } else { "" };
    let (whole, fraction) = (
        scaled.unsigned_abs() / factor,
        scaled.unsigned_abs() % factor,
    );
    if decimals == 0 {
        format!("{sign}{whole}")
    } else {
        format!(
            "{sign}{whole}.{fraction:0width$}",
            width = decimals as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_text_is_within_half_a_last_digit() {
        for value in [0.0, 0.04, 0.05, 1.25, -3.456, 99.999, 12345.678, -0.4] {
            for decimals in 0..=2 {
                let text = fixed(value, decimals);
                let digits = text.split_once('.').map_or(0, |(_, f)| f.len());
                assert_eq!(digits, decimals as usize, "{text}");
                let off = (text.parse::<f64>().unwrap() - value).abs();
                assert!(
                    off <= 0.5 / 10f64.powi(decimals as i32) + 1e-9,
                    "{value}: {text}"
                );
            }
        }
        assert_eq!(fixed(2.5, 1), "2.5");
        assert_eq!(fixed(-0.25, 1), "-0.3");
        assert_eq!(fixed(7.0, 0), "7");
    }

    #[test]
    fn value_ticks_are_round_and_three_or_four() {
        assert_eq!(value_ticks(511.0), [0.0, 200.0, 400.0, 600.0]);
        assert_eq!(value_ticks(1.0), [0.0, 0.5, 1.0]);
        assert_eq!(value_ticks(0.97), [0.0, 0.5, 1.0]);
        assert_eq!(value_ticks(3.0), [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(value_ticks(5.0), [0.0, 2.0, 4.0, 6.0]);
        assert_eq!(value_ticks(20_000.0), [0.0, 10_000.0, 20_000.0]);
        for max in [0.013, 0.3, 7.0, 42.0, 999.0, 4096.0, 123_456.0] {
            let ticks = value_ticks(max);
            assert!((3..=4).contains(&ticks.len()), "{max}: {ticks:?}");
            assert!(*ticks.last().unwrap() >= max, "{max}: {ticks:?}");
        }
    }

    #[test]
    fn an_empty_or_flat_range_still_has_an_axis() {
        assert_eq!(value_ticks(0.0), [0.0, 0.5, 1.0]);
        assert_eq!(value_ticks(f64::NAN), [0.0, 0.5, 1.0]);
    }

    #[test]
    fn times_map_onto_the_plot_and_stay_inside_it() {
        let axis = TimeAxis {
            from: 1000,
            to: 2000,
        };
        assert_eq!(axis.x(1000), LEFT);
        assert_eq!(axis.x(2000), WIDTH - RIGHT);
        assert_eq!(axis.x(1500), LEFT + (WIDTH - LEFT - RIGHT) / 2.0);
        assert_eq!(axis.x(0), LEFT);
        assert_eq!(axis.x(9999), WIDTH - RIGHT);
    }

    #[test]
    fn time_ticks_fall_on_round_local_times() {
        // 10:07:30 to 11:07:30 UTC, two hours east of UTC: every 10 min, on the minute 0, 10, ...
        let from = 36_450;
        let axis = TimeAxis {
            from,
            to: from + 3600,
        };
        let (step, ticks) = axis.ticks(7200);
        assert_eq!(step, 600);
        assert_eq!(ticks, [36_600, 37_200, 37_800, 38_400, 39_000, 39_600]);
        // A week is labelled once a day or every two days, at local midnight.
        let week = TimeAxis {
            from: 0,
            to: 7 * 86_400,
        };
        let (step, ticks) = week.ticks(3600);
        assert_eq!(step, 172_800);
        assert!(ticks.iter().all(|t| (t + 3600) % 86_400 == 0), "{ticks:?}");
    }

    #[test]
    fn values_map_from_the_bottom_up() {
        assert_eq!(y(0.0, 10.0, 10.0, 110.0), 110.0);
        assert_eq!(y(10.0, 10.0, 10.0, 110.0), 10.0);
        assert_eq!(y(5.0, 10.0, 10.0, 110.0), 60.0);
        assert_eq!(y(50.0, 10.0, 10.0, 110.0), 10.0, "clamped to the top");
        let axis = TimeAxis { from: 0, to: 100 };
        let points = [
            Point { t: 0, value: 0.0 },
            Point {
                t: 100,
                value: 10.0,
            },
        ];
        assert_eq!(
            polyline(&points, axis, 10.0, 10.0, 110.0),
            "56.0,110.0 940.0,10.0"
        );
    }

    #[test]
    fn labels_are_short() {
        assert_eq!(label(0.8, Unit::Ratio), "80%");
        assert_eq!(label(0.125, Unit::Ratio), "12.5%");
        assert_eq!(label(2.5, Unit::PerSecond), "2.5/s");
        assert_eq!(label(0.0, Unit::Count), "0");
        assert_eq!(label(600.0, Unit::Count), "600");
        assert_eq!(label(20_000.0, Unit::Count), "20k");
        assert_eq!(label(2_500_000.0, Unit::Count), "2.5M");
    }
}
