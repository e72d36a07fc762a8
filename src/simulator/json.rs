//! JSON as Meta writes it on the wire: ASCII only, every other character escaped as `\uXXXX`
//! with lowercase hex (surrogate pairs beyond the BMP, e.g. `\ud83d\ude2e`). Webhooks are signed
//! over exactly these bytes (spec §3), so a receiver that re-serialises before checking fails.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

/// `value` as compact, ASCII-only JSON.
pub(crate) fn to_ascii_json<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::new();
    value.serialize(&mut Serializer::with_formatter(&mut out, AsciiFormatter))?;
    Ok(out)
}

/// serde_json's compact output (the trait's defaults), with non-ASCII characters in strings
/// escaped.
struct AsciiFormatter;

impl Formatter for AsciiFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (at, ch) in fragment.char_indices() {
            if ch.is_ascii() {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..at])?;
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = at + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn non_ascii_is_escaped_with_surrogate_pairs() {
        let bytes = to_ascii_json(&json!({"näme": "äöå 😮 \"q\"\n"})).unwrap();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"n\u00e4me":"\u00e4\u00f6\u00e5 \ud83d\ude2e \"q\"\n"}"#
        );
        let back: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back["näme"], "äöå 😮 \"q\"\n");
    }
}
