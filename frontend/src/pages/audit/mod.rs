//! `/audit`: everyone's logins for auditors and admins. A search with filters, page by page;
//! the whole result as a file; one person's timeline from a click on their name; and who was
//! logged in on a host at a given time.

mod export_links;
mod on_host;
mod search_form;

use leptos::prelude::*;
use opsportal_shared::auth::{Me, Role};

use self::export_links::ExportLinks;
use self::on_host::OnHost;
use self::search_form::{AuditFields, AuditForm};
use crate::api;
use crate::browser;
use crate::components::error_note::ErrorNote;
use crate::components::event_table::EventTable;
use crate::components::signed_in::SignedIn;

/// Events a page holds unless the auditor picks another size.
const PAGE: u32 = 50;

#[component]
pub fn AuditPage() -> impl IntoView {
    view! { <SignedIn page=for_role /> }
}

fn for_role(me: Me) -> AnyView {
    if me.roles.contains(&Role::Auditor) || me.roles.contains(&Role::Admin) {
        view! { <AuditSearch /> <OnHost /> }.into_any()
    } else {
        view! {
            <section class="card">
                <h1>"Audit search"</h1>
                <p id="not-allowed" class="muted">"This page is for auditors and admins."</p>
            </section>
        }
        .into_any()
    }
}

#[component]
fn AuditSearch() -> impl IntoView {
    let fields = AuditFields::new(PAGE);
    // Nothing is fetched before the first search: every search is recorded in the audit trail,
    // so each one should be the auditor's own act.
    let search = RwSignal::new(None::<api::EventQuery>);
    let page_number = RwSignal::new(1_u32);
    let results = LocalResource::new(move || {
        let query = search.get();
        async move {
            match query {
                Some(query) => Some(api::audit_events(query).await),
                None => None,
            }
        }
    });

    let run = Callback::new(move |()| {
        page_number.set(1);
        search.set(Some(fields.query()));
    });
    let show_person = Callback::new(move |person: String| {
        fields.person.set(person);
        run.run(());
        browser::scroll_to("audit-title");
    });

    let page = move || results.get().flatten().and_then(Result::ok);
    let rows = Signal::derive(move || page().map(|p| p.events).unwrap_or_default());
    let next = move || page().and_then(|p| p.next);
    let go_next = move |_| {
        if let Some(after) = next() {
            page_number.update(|n| *n += 1);
            search.update(|q| {
                if let Some(q) = q {
                    q.after = Some(after);
                }
            });
        }
    };
    let go_first = move |_| {
        page_number.set(1);
        search.update(|q| {
            if let Some(q) = q {
                q.after = None;
            }
        });
    };
    let summary = move || {
        page().map(|p| match (p.events.len(), page_number.get()) {
            (0, 1) => "No events match.".to_owned(),
            (0, n) => format!("Page {n}: no more events."),
            (1, n) => format!("Page {n}: 1 event."),
            (count, n) => format!("Page {n}: {count} events."),
        })
    };
    let error = Signal::derive(move || results.get().flatten().and_then(Result::err));
    // Offered once there is a search to export: the links carry the filters it was run with.
    let searched = Memo::new(move |_| search.with(Option::is_some));
    let export = Signal::derive(move || search.get().unwrap_or_default());

    view! {
        <section class="card" aria-labelledby="audit-title">
            <h1 id="audit-title">"Audit search"</h1>
            <p class="lead">
                "Every login, refusal and session the servers logged, with the person behind "
                "each. Rows marked on the left need a look. Searches are recorded."
            </p>
            <AuditForm fields on_search=run />
            <ErrorNote error />
            <p id="audit-summary" class="muted list-summary">{summary}</p>
            <EventTable id="audit-table" rows audit=true on_person=show_person />
            <div class="actions">
                {move || (page_number.get() > 1).then(|| view! {
                    <button type="button" id="audit-first" class="secondary" on:click=go_first>
                        "First page"
                    </button>
                })}
                {move || next().is_some().then(|| view! {
                    <button type="button" id="audit-next" class="secondary" on:click=go_next>
                        "Next page"
                    </button>
                })}
            </div>
            {move || searched.get().then(|| view! { <ExportLinks query=export /> })}
        </section>
    }
}
