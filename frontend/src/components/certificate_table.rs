//! A table of certificates, one row each: state, principals, serial, key and end of validity,
//! and a last column the page fills (a "Show" button, revocation buttons).

use leptos::prelude::*;
use opsportal_shared::certs::CertificateSummary;

use crate::components::state_badge::StateBadge;
use crate::time;

#[component]
pub fn CertificateTable<A, V>(
    id: &'static str,
    #[prop(into)] rows: Signal<Vec<CertificateSummary>>,
    /// The last column's contents for one certificate.
    actions: A,
    /// Adds a column with the owner, for lists of everyone's certificates.
    #[prop(optional)]
    show_owner: bool,
    /// Called with the certificate id when a row is clicked.
    #[prop(optional)]
    on_select: Option<Callback<i64>>,
    /// The id of the row to mark as the one shown.
    #[prop(optional, into)]
    selected: Option<Signal<Option<i64>>>,
) -> impl IntoView
where
    A: Fn(&CertificateSummary) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let row = move |cert: CertificateSummary| {
        let id = cert.id;
        let owner = show_owner.then(|| view! { <td class="owner">{cert.username.clone()}</td> });
        let serial = cert.serial.clone().unwrap_or_else(|| "—".into());
        let until = cert
            .valid_before
            .as_deref()
            .map_or_else(|| "—".into(), time::local);
        let is_selected = move || selected.is_some_and(|s| s.get() == Some(id));
        let select = move |_| {
            if let Some(on_select) = on_select {
                on_select.run(id);
            }
        };
        view! {
            <tr class="cert-row" data-id=id.to_string() class:selectable=on_select.is_some()
                class:selected=is_selected on:click=select>
                <td><StateBadge state=cert.state /></td>
                {owner}
                <td class="principals">{cert.principals.join(", ")}</td>
                <td><code>{serial}</code></td>
                <td><code class="fingerprint">{cert.key_fingerprint.clone()}</code></td>
                <td><time datetime=cert.valid_before.clone()>{until}</time></td>
                <td class="row-actions">{actions(&cert)}</td>
            </tr>
        }
    };
    let owner_head = show_owner.then(|| view! { <th scope="col">"Person"</th> });

    view! {
        <div class="table-wrap">
            <table id=id class="certificates">
                <thead>
                    <tr>
                        <th scope="col">"State"</th>
                        {owner_head}
                        <th scope="col">"Principals"</th>
                        <th scope="col">"Serial"</th>
                        <th scope="col">"Key fingerprint"</th>
                        <th scope="col">"Valid until"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {move || rows.get().into_iter().map(row.clone()).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
