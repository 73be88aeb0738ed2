//! Canonical JSON and BLAKE3 content hashes.
//!
//! Canonical means: object keys sorted by bytes (serde_json's default `Map` is a `BTreeMap`),
//! no insignificant whitespace, no floats anywhere in the model, and arrays in the order the
//! model defines (sorted where order carries no meaning, kept where it does, e.g. enum labels).

use serde::Serialize;
use std::fmt;

/// A BLAKE3 hash of canonical bytes, printed as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContentHash(pub [u8; 32]);

impl ContentHash {
    pub fn of(bytes: &[u8]) -> Self {
        ContentHash(*blake3::hash(bytes).as_bytes())
    }

    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = Vec::with_capacity(64);
        for b in self.0 {
            out.push(DIGITS[(b >> 4) as usize]);
            out.push(DIGITS[(b & 0x0f) as usize]);
        }
        String::from_utf8(out).expect("hex digits are ASCII")
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
            let hex = std::str::from_utf8(chunk).ok()?;
            out[i] = u8::from_str_radix(hex, 16).ok()?;
        }
        Some(ContentHash(out))
    }

    /// The short form used in tables and logs (12 hex digits, like an abbreviated git id).
    pub fn short(&self) -> String {
        self.to_hex()[..12].to_string()
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", self.short())
    }
}

impl Serialize for ContentHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for ContentHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ContentHash::from_hex(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not a 64-digit hex hash: {s:?}")))
    }
}

/// Serialize `value` as canonical JSON bytes: the bytes of `serde_json::to_value` then
/// `to_vec` (every object's keys sorted, whatever order the struct declares its fields in),
/// written directly (`canonical_ser`).
pub fn canonical_bytes<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    super::canonical_ser::write(&mut out, value).expect("model values always serialize to JSON");
    out
}

/// Hash of the canonical JSON of `value`.
pub fn hash_of<T: Serialize + ?Sized>(value: &T) -> ContentHash {
    ContentHash::of(&canonical_bytes(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Unsorted {
        zeta: u8,
        alpha: u8,
    }

    #[test]
    fn keys_are_sorted_whatever_the_declaration_order() {
        let bytes = canonical_bytes(&Unsorted { zeta: 1, alpha: 2 });
        assert_eq!(bytes, br#"{"alpha":2,"zeta":1}"#);
    }

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        let h = ContentHash::of(b"driftgate");
        assert_eq!(ContentHash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(ContentHash::from_hex("zz"), None);
        assert_eq!(ContentHash::from_hex(&"g".repeat(64)), None);
        assert_eq!(h.short().len(), 12);
    }
}
