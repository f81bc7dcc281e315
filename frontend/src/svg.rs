//! Drawing inside an `<svg>` through the DOM, for the health charts. A chart is many small
//! shapes that never change once drawn; made by `view!`, each shape's attributes would cost
//! code of its own, so they are made here by one plain function instead, keeping the app
//! within its size budget. Text goes in as text nodes, never as markup.

use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::scale::{LEFT, RIGHT, TimeAxis, WIDTH};
use crate::time;

const NAMESPACE: &str = "http://www.w3.org/2000/svg";
/// Where every plot starts; below `height - 26` are the time labels.
pub const TOP: f64 = 12.0;

/// Appends a `tag` element with `attributes` (and `text`, when not empty) to `parent`;
/// `None` when the browser refuses, and the chart then lacks that shape.
pub fn add(
    parent: &Element,
    tag: &str,
    attributes: &[(&str, &str)],
    text: &str,
) -> Option<Element> {
    let element = parent
        .owner_document()?
        .create_element_ns(Some(NAMESPACE), tag)
        .ok()?;
    for (name, value) in attributes {
        // Cannot fail for the fixed, valid names used here.
        let _ = element.set_attribute(name, value);
    }
    if !text.is_empty() {
        element.set_text_content(Some(text));
    }
    parent.append_child(&element).ok()?;
    Some(element)
}

/// A horizontal line across the plot at `y`.
pub fn rule(parent: &Element, class: &str, y: f64) {
    let (y, x1, x2) = (fmt(y), fmt(LEFT), fmt(WIDTH - RIGHT));
    let points = [
        ("class", class),
        ("x1", &x1),
        ("x2", &x2),
        ("y1", &y),
        ("y2", &y),
    ];
    add(parent, "line", &points, "");
}

/// Text at `x`, `y`, anchored at `anchor` (`start`, `middle`, `end`).
pub fn label(parent: &Element, class: &str, x: f64, y: f64, anchor: &str, text: &str) {
    let (x, y) = (fmt(x), fmt(y));
    let attributes = [
        ("class", class),
        ("x", &x),
        ("y", &y),
        ("text-anchor", anchor),
    ];
    add(parent, "text", &attributes, text);
}

/// The time labels below a drawing of `height`, with faint lines up to its top. Every chart
/// and the login strip draw the same ones, so that their marks line up.
pub fn time_labels(parent: &Element, axis: TimeAxis, height: f64) {
    let (step, ticks) = axis.ticks(time::offset_secs());
    let words = if step >= 86_400 {
        time::day
    } else {
        time::clock
    };
    let (top, bottom) = (fmt(TOP), fmt(height - 26.0));
    for t in ticks {
        let x = axis.x(t);
        let at = fmt(x);
        let line = [
            ("class", "grid-x"),
            ("x1", &at),
            ("x2", &at),
            ("y1", &top),
            ("y2", &bottom),
        ];
        add(parent, "line", &line, "");
        label(parent, "tick", x, height - 8.0, "middle", &words(t));
    }
}

/// Turns the element a `NodeRef` found into one to draw in.
pub fn element(node: web_sys::SvgElement) -> Element {
    node.unchecked_into()
}

/// A coordinate to a tenth of a unit, which is finer than a pixel.
pub fn fmt(value: f64) -> String {
    crate::scale::fixed(value, 1)
}
