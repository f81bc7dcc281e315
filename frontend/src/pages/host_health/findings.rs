//! What is wrong on the host, worst first: each finding's title, what was seen and why it
//! matters, and what to do about it.

use leptos::prelude::*;
use opsportal_shared::health::Finding;

use crate::components::health_badge::severity;

#[component]
pub fn Findings(findings: Vec<Finding>) -> impl IntoView {
    if findings.is_empty() {
        return view! { <p id="findings" class="muted">"Nothing to report: all looks well."</p> }
            .into_any();
    }
    let items = findings
        .into_iter()
        .map(|finding| {
            let class = severity(finding.severity);
            view! {
                <li class=format!("finding {class}") data-rule=finding.rule.clone()>
                    <p class="finding-title">
                        <span class=format!("health-badge {class}")>{class}</span>
                        " "
                        <strong>{finding.title}</strong>
                    </p>
                    <p class="finding-explanation">{finding.explanation}</p>
                    <p class="remedy"><strong>"What to do: "</strong>{finding.remedy}</p>
                </li>
            }
        })
        .collect_view();
    view! { <ul id="findings" class="findings">{items}</ul> }.into_any()
}
