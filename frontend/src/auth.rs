//! Who is signed in, shared with every component through context.

use leptos::prelude::*;
use leptos::task::spawn_local;
use opsportal_shared::auth::Me;

use crate::api;

/// The sign-in state of the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// Still asking the server.
    Unknown,
    SignedOut,
    SignedIn(Me),
}

/// Handle to the shared state.
#[derive(Clone, Copy)]
pub struct AuthState(pub RwSignal<Auth>);

impl AuthState {
    pub fn me(&self) -> Option<Me> {
        match self.0.get() {
            Auth::SignedIn(me) => Some(me),
            _ => None,
        }
    }

    pub fn set_signed_in(&self, me: Me) {
        self.0.set(Auth::SignedIn(me));
    }

    pub fn set_signed_out(&self) {
        self.0.set(Auth::SignedOut);
    }
}

/// Creates the state and asks the server whether a session exists.
pub fn provide() {
    let state = AuthState(RwSignal::new(Auth::Unknown));
    provide_context(state);
    spawn_local(async move {
        match api::me().await {
            Ok(me) => state.set_signed_in(me),
            Err(_) => state.set_signed_out(),
        }
    });
}

pub fn use_auth() -> AuthState {
    expect_context::<AuthState>()
}
