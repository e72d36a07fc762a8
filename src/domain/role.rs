use super::InvalidValue;

/// A member's role in a workspace. OWNER and ADMIN manage the workspace (members, numbers,
/// campaigns); MEMBER answers conversations.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, sqlx::Type,
)]
#[sqlx(type_name = "member_role", rename_all = "UPPERCASE")]
#[serde(rename_all = "UPPERCASE")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

/// What a member may do beyond answering conversations; a role that may not is not offered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Give a conversation to another member (everyone may take one, or let it go).
    AssignOthers,
    /// Change a contact's consent by hand; consent is the business's legal record.
    EditConsent,
    /// Add and delete the workspace's canned replies (everyone may use them).
    ManageCannedReplies,
    /// Start, pause, resume, cancel and retry campaigns.
    ControlCampaigns,
}

impl Role {
    /// OWNER and ADMIN may do everything; MEMBER answers, tags, takes and closes conversations.
    pub fn may(self, permission: Permission) -> bool {
        match self {
            Role::Owner | Role::Admin => true,
            Role::Member => match permission {
                Permission::AssignOthers
                | Permission::EditConsent
                | Permission::ManageCannedReplies
                | Permission::ControlCampaigns => false,
            },
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "OWNER",
            Role::Admin => "ADMIN",
            Role::Member => "MEMBER",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            _ => Err(InvalidValue(format!(
                "`{s}` is not a role; use owner, admin or member"
            ))),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_case_and_prints_the_schema_spelling() {
        assert_eq!("Admin".parse::<Role>().unwrap(), Role::Admin);
        assert_eq!(Role::Owner.to_string(), "OWNER");
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn members_answer_while_owners_and_admins_manage() {
        for permission in [
            Permission::AssignOthers,
            Permission::EditConsent,
            Permission::ManageCannedReplies,
            Permission::ControlCampaigns,
        ] {
            assert!(Role::Owner.may(permission));
            assert!(Role::Admin.may(permission));
            assert!(!Role::Member.may(permission));
        }
    }
}
