//! Use cases that combine the layers below (`store`, and later `cloud_api`); the command line,
//! the TUI and the listener call these rather than talking SQL themselves.

pub mod campaigns;
pub mod contact_import;
pub mod demo;
pub mod ingest;
pub mod media;
pub mod outbox;
pub mod templates;
pub mod workers;
