//! A table of log events, newest first: when, where, what happened, as whom and from where.
//! The audit search adds who was behind each login and how surely that is known.

use leptos::prelude::*;
use opsportal_shared::history::LogEventView;

use crate::components::event_row::EventRow;

#[component]
pub fn EventTable(
    id: &'static str,
    #[prop(into)] rows: Signal<Vec<LogEventView>>,
    /// Adds the person, the attribution and the raw line, for auditors.
    #[prop(optional)]
    audit: bool,
    /// Called with a person's name when it is clicked.
    #[prop(optional)]
    on_person: Option<Callback<String>>,
) -> impl IntoView {
    let audit_heads = audit.then(|| {
        view! {
            <th scope="col">"Person"</th>
            <th scope="col">"Attribution"</th>
        }
    });

    view! {
        <div class="table-wrap">
            <table id=id class="events">
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Host"</th>
                        <th scope="col">"What happened"</th>
                        {audit_heads}
                        <th scope="col">"Account"</th>
                        <th scope="col">"From"</th>
                        <th scope="col">"Serial"</th>
                        <th scope="col">"Session"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        rows.get()
                            .into_iter()
                            .map(|event| view! { <EventRow event audit on_person /> })
                            .collect_view()
                    }}
                </tbody>
            </table>
        </div>
    }
}
