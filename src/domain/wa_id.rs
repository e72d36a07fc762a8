use super::InvalidValue;

/// A customer's WhatsApp id: the E.164 number without `+`, digits only. People write numbers
/// with `+`, spaces, dots, dashes and parentheses; those are dropped, anything else is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WaId(String);

impl WaId {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let trimmed = raw.trim();
        let body = trimmed.strip_prefix('+').unwrap_or(trimmed);
        let mut digits = String::with_capacity(body.len());
        for c in body.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(InvalidValue(format!(
                        "`{raw}` is not a phone number (only digits, an optional leading +, spaces, dashes, dots and parentheses)"
                    )));
                }
            }
        }
        // E.164 numbers have at most 15 digits; country code plus subscriber is at least 7.
        if !(7..=15).contains(&digits.len()) {
            return Err(InvalidValue(format!(
                "`{raw}` is not a phone number: it has {} digits, and an international number has 7 to 15",
                digits.len()
            )));
        }
        if digits.starts_with('0') {
            return Err(InvalidValue(format!(
                "`{raw}` is not an international number: write it with its country code, not a leading 0"
            )));
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for WaId {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl std::fmt::Display for WaId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_written_numbers() {
        assert_eq!(
            WaId::parse("+1 (415) 555-0123").unwrap().as_str(),
            "14155550123"
        );
        assert_eq!(WaId::parse("14155550123").unwrap().as_str(), "14155550123");
        assert_eq!(
            WaId::parse("+55.11.99999.0000").unwrap().as_str(),
            "5511999990000"
        );
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        for bad in [
            "",
            "abc",
            "+1 415 CALL NOW",
            "12345",
            "1234567890123456",
            "0415555012",
        ] {
            assert!(WaId::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
