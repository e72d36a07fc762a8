//! Pure types and rules of treeex: validated values that arrive from outside, parsed once at the
//! edge and trusted after. Imports nothing of treeex and does no IO.

pub mod campaign;
mod email;
mod role;
mod slug;
mod status;
mod tag;
pub mod template;
mod wa_id;
pub mod window;

pub use campaign::{CampaignStatus, IllegalMove, Move};
pub use email::Email;
pub use role::{Permission, Role};
pub use slug::Slug;
pub use status::MessageStatus;
pub use tag::Tag;
pub use wa_id::WaId;
pub use window::CustomerWindow;

/// A value from outside that does not have the shape treeex needs; the message says which shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

/// The id of a workspace: every query on a workspace-scoped table takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct WorkspaceId(pub uuid::Uuid);

impl std::fmt::Display for WorkspaceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
