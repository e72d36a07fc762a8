use super::InvalidValue;

/// A workspace's short name: lowercase letters, digits and `-`, starting with a letter or digit,
/// at most 63 characters (the same rule as the `workspaces_slug_format` constraint).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let valid = (1..=63).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-');
        if valid {
            Ok(Self(raw.to_string()))
        } else {
            Err(InvalidValue(format!(
                "`{raw}` is not a workspace slug: use 1 to 63 lowercase letters, digits and `-`, not starting with `-`"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Slug {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_lowercase_words() {
        assert!(Slug::parse("acme").is_ok());
        assert!(Slug::parse("acme-2").is_ok());
    }

    #[test]
    fn refuses_other_shapes() {
        for bad in ["", "Acme", "-acme", "ac me", "acme_co", &"a".repeat(64)] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
