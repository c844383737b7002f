//! The sha-256 address of a blob: parsed from hex, printed as hex, and as RFC 9530's
//! `Repr-Digest` value.

use base64::Engine as _;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256([u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a sha-256 address is 64 hexadecimal characters, got {0:?}")]
pub struct BadDigest(pub String);

impl Sha256 {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Sha256(bytes)
    }

    /// Accepts exactly 64 hex digits, either case.
    pub fn parse_hex(s: &str) -> Result<Self, BadDigest> {
        let mut bytes = [0u8; 32];
        match (s.len(), hex::decode_to_slice(s, &mut bytes)) {
            (64, Ok(())) => Ok(Sha256(bytes)),
            _ => Err(BadDigest(s.chars().take(80).collect())),
        }
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// `sha-256=:<base64>:`, the value of `Repr-Digest` (RFC 9530 §2).
    pub fn repr_digest(&self) -> String {
        format!(
            "sha-256=:{}:",
            base64::engine::general_purpose::STANDARD.encode(self.0)
        )
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_anything_else() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let digest = Sha256::parse_hex(hex).unwrap();
        assert_eq!(digest.to_hex(), hex);
        assert_eq!(Sha256::parse_hex(&hex.to_uppercase()).unwrap(), digest);
        for bad in [
            "",
            "abc",
            &hex[1..],
            &format!("{hex}0"),
            &hex.replace('e', "g"),
            "../../etc/passwd",
        ] {
            assert!(Sha256::parse_hex(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn repr_digest_is_base64_of_the_raw_bytes() {
        // sha-256 of the empty string, as RFC 9530 examples write it.
        let empty =
            Sha256::parse_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
                .unwrap();
        assert_eq!(
            empty.repr_digest(),
            "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
        );
    }
}
