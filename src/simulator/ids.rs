//! Random identifiers shaped like Meta's (wamids, numeric object ids, trace ids), phone number
//! normalisation, and the random draws behind delays and faults. Never panics, whatever the
//! configured probabilities and ranges.

use std::time::Duration;

/// A fresh wamid for a message to or from `wa_id`, shaped like Meta's: `wamid.` + base64 of a
/// small binary record holding the number and a random id.
pub(crate) fn wamid(wa_id: &str) -> String {
    let digits = wa_id.as_bytes();
    let mut raw = vec![0x1c, 0x18, u8::try_from(digits.len()).unwrap_or(0)];
    raw.extend_from_slice(digits);
    raw.extend_from_slice(&[0x15, 0x02, 0x00, 0x11, 0x18, 0x12]);
    raw.extend_from_slice(hex(9).to_ascii_uppercase().as_bytes());
    raw.push(0);
    format!("wamid.{}", base64(&raw))
}

/// A Graph object id: 15 or 16 digits, as media, template and WABA ids are.
pub(crate) fn numeric_id() -> String {
    rand::random_range(100_000_000_000_000u64..10_000_000_000_000_000).to_string()
}

/// `bytes` random bytes as lowercase hex.
pub(crate) fn hex(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::fill(&mut raw[..]);
    ::hex::encode(raw)
}

/// An `fbtrace_id`: 11 random letters and digits.
pub(crate) fn fbtrace_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..11)
        .map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())]))
        .collect()
}

/// Now as unix seconds.
pub(crate) fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A phone number in the `wa_id` form (digits only, 7 to 15 of them), from `+1 (415) 555-0123`
/// and the like; `None` when it is not one.
pub(crate) fn wa_id(number: &str) -> Option<String> {
    let allowed = |c: char| c.is_ascii_digit() || " +-().".contains(c);
    if !number.chars().all(allowed) {
        return None;
    }
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    (7..=15).contains(&digits.len()).then_some(digits)
}

/// True with probability `p` (clamped to 0..=1; NaN is 0).
pub(crate) fn chance(p: f64) -> bool {
    if p.is_nan() || p <= 0.0 {
        false
    } else if p >= 1.0 {
        true
    } else {
        rand::random_bool(p)
    }
}

/// A random duration in `min..=max` (`min` when the range is empty).
pub(crate) fn between((min, max): (Duration, Duration)) -> Duration {
    if max <= min {
        min
    } else {
        rand::random_range(min..=max)
    }
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn a_wamid_looks_like_metas() {
        let id = wamid("14155550123");
        assert!(id.starts_with("wamid.HBgLMTQxNTU1NTAxMjM"), "{id}");
        assert_ne!(id, wamid("14155550123"));
    }

    #[test]
    fn numbers_normalise_to_wa_ids() {
        assert_eq!(wa_id("+1 (415) 555-0123").as_deref(), Some("14155550123"));
        assert_eq!(wa_id("123456"), None);
        assert_eq!(wa_id("1415555abc"), None);
    }

    #[test]
    fn draws_never_panic() {
        assert!(!chance(f64::NAN));
        assert!(chance(2.0));
        assert!(!chance(-1.0));
        let d = Duration::from_millis(5);
        assert_eq!(between((d, Duration::ZERO)), d);
    }
}
