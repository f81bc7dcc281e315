//! A time-series chart: lines over a time axis, a value axis with round ticks, an optional
//! dashed threshold and a legend. Where things land is worked out in [`crate::scale`]; the
//! shapes are drawn by [`crate::svg`] once the `<svg>` is on the page.
//!
//! Labels often come from a host (process names, listener addresses), so they are set as
//! text only: in the legend and caption by `view!`, in the drawing as text nodes.

use leptos::prelude::*;
use opsportal_shared::health::Point;

use crate::scale::{self, LEFT, RIGHT, TimeAxis, Unit, WIDTH};
use crate::svg::{self, TOP};

/// Height of a chart's drawing, in SVG user units.
const HEIGHT: f64 = 180.0;
/// The plot's bottom; below it are the time labels.
const BOTTOM: f64 = HEIGHT - 26.0;

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub label: String,
    pub points: Vec<Point>,
    /// Which of the palette's colours it is drawn in.
    pub tone: usize,
    /// Drawn dashed: a limit the solid lines are measured against, such as a backlog.
    pub dashed: bool,
}

/// A fixed level worth seeing, drawn dashed across the plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    pub value: f64,
    pub label: &'static str,
}

/// Everything the drawing needs, worked out before the `<svg>` exists.
struct Plan {
    axis: TimeAxis,
    unit: Unit,
    ticks: Vec<f64>,
    lines: Vec<Line>,
    threshold: Option<Threshold>,
    empty: &'static str,
}

#[component]
pub fn Chart(
    /// `data-chart` of the drawing, naming what it shows.
    kind: &'static str,
    #[prop(into)] title: String,
    axis: TimeAxis,
    unit: Unit,
    lines: Vec<Line>,
    #[prop(optional)] threshold: Option<Threshold>,
    /// Said instead of the lines when there are no points.
    #[prop(optional)]
    empty: Option<&'static str>,
) -> impl IntoView {
    let highest = lines
        .iter()
        .flat_map(|line| line.points.iter().map(|p| p.value))
        .chain(threshold.map(|t| t.value))
        .fold(0.0, f64::max);
    let no_data = lines.iter().all(|line| line.points.is_empty());
    let legend = (!no_data).then(|| legend(&lines, threshold, unit));
    let plan = Plan {
        axis,
        unit,
        ticks: scale::value_ticks(highest),
        lines,
        threshold,
        empty: empty.unwrap_or("no data in this window"),
    };
    let node = NodeRef::<leptos::svg::Svg>::new();
    node.on_load(move |svg| draw(&svg::element(svg), &plan));

    view! {
        <figure class="chart-figure">
            <figcaption>{title.clone()}</figcaption>
            <svg class="chart" data-chart=kind viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                role="img" aria-label=title node_ref=node></svg>
            {legend}
        </figure>
    }
}

fn draw(svg: &web_sys::Element, plan: &Plan) {
    let top_value = plan.ticks.last().copied().unwrap_or(1.0);
    let y = |value| scale::y(value, top_value, TOP, BOTTOM);
    for value in &plan.ticks {
        svg::rule(svg, "grid", y(*value));
        let text = scale::label(*value, plan.unit);
        svg::label(svg, "tick", LEFT - 6.0, y(*value) + 4.0, "end", &text);
    }
    svg::time_labels(svg, plan.axis, HEIGHT);

    let drawn: Vec<&Line> = plan.lines.iter().filter(|l| !l.points.is_empty()).collect();
    if drawn.is_empty() {
        let middle = (LEFT + WIDTH - RIGHT) / 2.0;
        svg::label(
            svg,
            "empty",
            middle,
            (TOP + BOTTOM) / 2.0,
            "middle",
            plan.empty,
        );
        return;
    }
    if let Some(threshold) = plan.threshold {
        svg::rule(svg, "threshold", y(threshold.value));
    }
    for line in drawn {
        let mut class = format!("series s{}", line.tone % 6);
        if line.dashed {
            class.push_str(" dashed");
        }
        // A polyline of one point draws nothing: a lone point is a dot.
        if let [only] = line.points.as_slice() {
            let (cx, cy) = (svg::fmt(plan.axis.x(only.t)), svg::fmt(y(only.value)));
            let dot = [
                ("class", class.as_str()),
                ("cx", &cx),
                ("cy", &cy),
                ("r", "3"),
            ];
            svg::add(svg, "circle", &dot, "");
        } else {
            let points = scale::polyline(&line.points, plan.axis, top_value, TOP, BOTTOM);
            let attributes = [("class", class.as_str()), ("points", &points)];
            svg::add(svg, "polyline", &attributes, "");
        }
    }
}

fn legend(lines: &[Line], threshold: Option<Threshold>, unit: Unit) -> impl IntoView + use<> {
    let mut items: Vec<(String, String)> = lines
        .iter()
        .map(|line| {
            let dashed = if line.dashed { " dashed" } else { "" };
            let class = format!("swatch s{}{dashed}", line.tone % 6);
            (class, line.label.clone())
        })
        .collect();
    if let Some(t) = threshold {
        let words = format!("{} ({})", t.label, scale::label(t.value, unit));
        items.push(("swatch threshold dashed".to_owned(), words));
    }
    let items = items
        .into_iter()
        .map(|(class, words)| view! { <li><span class=class></span>{words}</li> })
        .collect_view();
    view! { <ul class="legend">{items}</ul> }
}
