//! The WhatsApp wire layer: what Meta's Cloud API sends us, how we prove it was Meta, and what
//! we say to it.
//!
//! `signature` checks `X-Hub-Signature-256` over the raw request bytes; `webhook` turns a webhook
//! body into typed events and keeps every shape it does not understand as raw JSON, so nothing a
//! customer sent is lost; `graph` is the Graph API client (sends, media, templates) with Meta's
//! limits checked before a request leaves and its errors classified for retrying. This layer
//! knows nothing of the database: `app` joins it to `store` (it must never import `store` or
//! `app`).

pub mod graph;
pub mod signature;
pub mod webhook;
