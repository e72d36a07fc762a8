//! The WhatsApp wire layer: what Meta's Cloud API sends us and how we prove it was Meta.
//!
//! `signature` checks `X-Hub-Signature-256` over the raw request bytes; `webhook` turns a webhook
//! body into typed events and keeps every shape it does not understand as raw JSON, so nothing a
//! customer sent is lost. This layer does no IO and knows nothing of the database: `app` joins it
//! to `store` (it must never import `store` or `app`).

pub mod graph;
pub mod signature;
pub mod webhook;
