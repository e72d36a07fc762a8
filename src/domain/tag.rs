use super::InvalidValue;

/// A contact tag: a short label, compared without case, so `VIP` and `vip` are one tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let tag = raw.trim().to_lowercase();
        if tag.is_empty() || tag.chars().count() > 64 {
            return Err(InvalidValue(format!(
                "`{raw}` is not a tag: use 1 to 64 characters"
            )));
        }
        if tag
            .chars()
            .any(|c| c.is_control() || matches!(c, ',' | ';' | '|'))
        {
            return Err(InvalidValue(format!(
                "`{raw}` is not a tag: `,`, `;` and `|` separate tags"
            )));
        }
        Ok(Self(tag))
    }

    /// Tags as written in one field: separated by `;`, `,` or `|`; empty pieces are ignored.
    pub fn parse_list(raw: &str) -> Result<Vec<Self>, InvalidValue> {
        let mut tags: Vec<Self> = raw
            .split([';', ',', '|'])
            .filter(|piece| !piece.trim().is_empty())
            .map(Self::parse)
            .collect::<Result<_, _>>()?;
        tags.sort();
        tags.dedup();
        Ok(tags)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::str::FromStr for Tag {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_split_lowercased_and_deduplicated() {
        let tags = Tag::parse_list(" VIP; lead ,vip|| ").unwrap();
        let names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
        assert_eq!(names, ["lead", "vip"]);
    }

    #[test]
    fn refuses_empty_and_overlong_tags() {
        assert!(Tag::parse("  ").is_err());
        assert!(Tag::parse(&"x".repeat(65)).is_err());
        assert!(Tag::parse("a,b").is_err());
    }
}
