//! treeex: a terminal inbox for the WhatsApp Business Platform (Meta's Cloud API), backed by
//! PostgreSQL.
//!
//! Layers point down: `cli` → `app` → `store` → `domain`/`config` (see ARCHITECTURE in the
//! README). The binary is a thin `main` over [`cli::main`], so the tests drive the same code
//! as users.

pub mod app;
pub mod cli;
pub mod cloud_api;
pub mod config;
pub mod domain;
pub mod logging;
pub mod server;
pub mod simulator;
pub mod store;
pub mod tui;

/// Installs the TLS crypto provider (ring) that reqwest's rustls needs before any HTTP client
/// is built; calling it again is harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
