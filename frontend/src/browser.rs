//! Thin wrappers over the browser features the pages use: files, downloads made in the page,
//! the clipboard, dialogs and scrolling. Each one fails softly, since any of them can be missing
//! or refused (an insecure origin has no clipboard, a blocked dialog answers nothing).

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, File, HtmlInputElement, Url};

/// A `blob:` URL for a file made in the page, revoked when dropped so the browser frees it.
#[derive(Debug)]
pub struct ObjectUrl(String);

impl ObjectUrl {
    /// Holds `text` in a Blob: the one copy the browser keeps for the download.
    pub fn for_text(text: &str) -> Option<Self> {
        let parts = js_sys::Array::of1(&JsValue::from_str(text));
        let options = BlobPropertyBag::new();
        // Not `text/plain`: a browser that ignores `download` would show a private key in a tab.
        options.set_type("application/octet-stream");
        let blob = Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
        Url::create_object_url_with_blob(&blob).ok().map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Drop for ObjectUrl {
    fn drop(&mut self) {
        let _ = Url::revoke_object_url(&self.0);
    }
}

/// The first file chosen in the `<input type="file">` an event came from.
pub fn chosen_file(event: &web_sys::Event) -> Option<(HtmlInputElement, File)> {
    let input: HtmlInputElement = event.target()?.dyn_into().ok()?;
    let file = input.files()?.get(0)?;
    Some((input, file))
}

/// The contents of a file as text, or `None` when the browser cannot read it.
pub async fn read_text(file: &File) -> Option<String> {
    JsFuture::from(file.text()).await.ok()?.as_string()
}

/// Puts `text` on the clipboard; `false` when the browser has no clipboard here or refuses.
pub async fn copy_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    // Only secure origins have `navigator.clipboard`; calling into a missing one would throw.
    let present = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard"))
        .is_ok_and(|clipboard| !clipboard.is_undefined() && !clipboard.is_null());
    if !present {
        return false;
    }
    JsFuture::from(navigator.clipboard().write_text(text))
        .await
        .is_ok()
}

/// Asks a yes-or-no question in the browser's own dialog; `false` when it cannot be shown.
pub fn confirm(question: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(question).ok())
        .unwrap_or(false)
}

/// Asks for a line of text: `None` when the person cancels, `Some("")` when they leave it empty.
pub fn prompt(question: &str) -> Option<String> {
    web_sys::window()
        .and_then(|w| w.prompt_with_message(question).ok())
        .flatten()
}

/// Brings the element with `id` into view, once the view has been drawn.
pub fn scroll_to(id: &'static str) {
    leptos::prelude::request_animation_frame(move || {
        if let Some(element) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(id))
        {
            element.scroll_into_view();
        }
    });
}

/// Text someone else chose (a username, a key name) made safe to quote in a dialog: without
/// control characters it cannot fake extra lines in the question.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
