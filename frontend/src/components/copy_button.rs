//! A button that puts a text on the clipboard and says whether that worked.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser;

/// How long "Copied" stays before the button reads as before.
const FEEDBACK: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Feedback {
    Ready,
    Done,
    Failed,
}

#[component]
pub fn CopyButton(id: &'static str, label: &'static str, text: String) -> impl IntoView {
    let state = RwSignal::new(Feedback::Ready);
    let copy = move |_| {
        let text = text.clone();
        spawn_local(async move {
            let copied = browser::copy_text(&text).await;
            state.set(if copied {
                Feedback::Done
            } else {
                Feedback::Failed
            });
            set_timeout(move || state.set(Feedback::Ready), FEEDBACK);
        });
    };
    view! {
        <button type="button" id=id class="secondary copy" on:click=copy>
            {move || match state.get() {
                Feedback::Ready => label,
                Feedback::Done => "Copied",
                // Without a clipboard (e.g. over plain HTTP) the text is still there to select.
                Feedback::Failed => "Copy failed: select the text",
            }}
        </button>
    }
}
