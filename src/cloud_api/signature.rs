//! Webhook signatures: Meta signs every POST with `X-Hub-Signature-256: sha256=<hex>`, the
//! HMAC-SHA256 of the raw body under the app secret.
//!
//! Verify over the exact bytes received, never over a re-serialisation: Meta escapes non-ASCII as
//! `\uXXXX`, so parsed-then-printed JSON no longer matches (spec §3). The comparison is constant
//! time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The header Meta puts the signature in (lower case, as HTTP header maps store names).
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// Why a webhook's signature was refused. Every case means "not proven to come from Meta".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    #[error("the X-Hub-Signature-256 header is not `sha256=` followed by 64 hex digits")]
    Malformed,
    #[error(
        "the X-Hub-Signature-256 header does not match the body (wrong app secret, or the body was changed)"
    )]
    Mismatch,
}

type HmacSha256 = Hmac<Sha256>;

/// Checks that `header` (`sha256=<hex>`, hex in either case) is HMAC-SHA256(`app_secret`, `body`),
/// in constant time. `body` must be the raw request bytes.
pub fn verify(app_secret: &[u8], header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    let header = header.map(str::trim).unwrap_or_default();
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    let (scheme, digest) = header.split_once('=').ok_or(SignatureError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("sha256") || digest.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let claimed = hex::decode(digest).map_err(|_| SignatureError::Malformed)?;
    mac(app_secret)
        .chain_update(body)
        .verify_slice(&claimed)
        .map_err(|_| SignatureError::Mismatch)
}

/// The header value Meta would send for `body`: `sha256=<lowercase hex>`.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let tag = mac(app_secret).chain_update(body).finalize().into_bytes();
    format!("sha256={}", hex::encode(tag))
}

/// An HMAC keyed with `app_secret`. The key is prepared as RFC 2104 says (hashed when longer than
/// a block, zero-padded to one block), which makes the constructor infallible for any secret.
fn mac(app_secret: &[u8]) -> HmacSha256 {
    let mut key = hmac::digest::Key::<HmacSha256>::default();
    if app_secret.len() > key.len() {
        let hashed = Sha256::digest(app_secret);
        key[..hashed.len()].copy_from_slice(&hashed);
    } else {
        key[..app_secret.len()].copy_from_slice(app_secret);
    }
    <HmacSha256 as KeyInit>::new(&key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"app-secret-for-tests";

    #[test]
    fn a_body_signed_by_sign_verifies() {
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let header = sign(SECRET, body);
        assert!(header.starts_with("sha256="));
        assert_eq!(header.len(), "sha256=".len() + 64);
        assert_eq!(verify(SECRET, Some(&header), body), Ok(()));
    }

    #[test]
    fn uppercase_hex_and_surrounding_spaces_are_accepted() {
        let body = b"{}";
        let header = sign(SECRET, body);
        let upper = format!("sha256={}", header["sha256=".len()..].to_ascii_uppercase());
        assert_eq!(verify(SECRET, Some(&upper), body), Ok(()));
        assert_eq!(verify(SECRET, Some(&format!("  {header} ")), body), Ok(()));
    }

    #[test]
    fn a_missing_or_empty_header_is_missing() {
        assert_eq!(verify(SECRET, None, b"{}"), Err(SignatureError::Missing));
        assert_eq!(
            verify(SECRET, Some(""), b"{}"),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(SECRET, Some("   "), b"{}"),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn a_wrong_prefix_is_malformed() {
        let hex_part = &sign(SECRET, b"{}")["sha256=".len()..];
        for header in [
            format!("sha1={hex_part}"),
            hex_part.to_string(),
            format!("sha256:{hex_part}"),
            format!("sha512={hex_part}"),
        ] {
            assert_eq!(
                verify(SECRET, Some(&header), b"{}"),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
    }

    #[test]
    fn bad_hex_or_a_wrong_length_is_malformed() {
        let good = sign(SECRET, b"{}");
        let not_hex = format!("sha256={}", "zz".repeat(32));
        let short = good[..good.len() - 2].to_string();
        let long = format!("{good}00");
        for header in [not_hex, short, long, "sha256=".to_string()] {
            assert_eq!(
                verify(SECRET, Some(&header), b"{}"),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
    }

    #[test]
    fn a_signature_of_other_bytes_or_another_secret_is_a_mismatch() {
        let header = sign(SECRET, b"{\"a\":1}");
        assert_eq!(
            verify(SECRET, Some(&header), b"{\"a\":2}"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"another-secret", Some(&header), b"{\"a\":1}"),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn escaped_unicode_is_verified_over_the_exact_bytes_not_a_reserialisation() {
        // As Meta sends it: non-ASCII escaped, surrogate pair for the emoji.
        let raw = br#"{"reaction":{"message_id":"wamid.OUT1","emoji":"\ud83d\ude2e"}}"#;
        let header = sign(SECRET, raw);
        assert_eq!(verify(SECRET, Some(&header), raw), Ok(()));

        // The same JSON printed again carries the raw UTF-8 emoji, so it must not verify.
        let parsed: serde_json::Value = serde_json::from_slice(raw).unwrap();
        let reprinted = serde_json::to_vec(&parsed).unwrap();
        assert_ne!(reprinted.as_slice(), raw.as_slice());
        assert_eq!(
            verify(SECRET, Some(&header), &reprinted),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_key_preparation_matches_rfc_4231() {
        // Test case 1: a short key.
        assert_eq!(
            sign(&[0x0b; 20], b"Hi There"),
            "sha256=b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        // Test case 6: a key longer than a block, hashed first.
        assert_eq!(
            sign(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "sha256=60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        // An empty secret is a valid (if foolish) HMAC key.
        let header = sign(b"", b"{}");
        assert_eq!(verify(b"", Some(&header), b"{}"), Ok(()));
    }
}
