//! Session ids as CherryPy makes them: 20 bytes from the operating system's random source,
//! written as 40 lowercase hex digits.
//!
//! An id from a cookie is accepted only in exactly that form. CherryPy looks any value up
//! as-is (and its file store builds a path from it, CVE-2008-0252); we treat anything else as
//! an unknown session, which gets a new id, as CherryPy does for ids it does not know.

use std::fmt;

/// A well-formed session id: 40 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SessionId([u8; 40]);

impl SessionId {
    /// A fresh id from the OS random source (20 bytes, as CherryPy's `os.urandom(20)`).
    ///
    /// # Panics
    /// If the operating system cannot provide randomness, which leaves no safe way to go on.
    pub fn generate() -> Self {
        let mut raw = [0u8; 20];
        getrandom::fill(&mut raw).expect("the OS random source is available");
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 40];
        for (i, byte) in raw.iter().enumerate() {
            out[2 * i] = HEX[usize::from(byte >> 4)];
            out[2 * i + 1] = HEX[usize::from(byte & 0x0f)];
        }
        Self(out)
    }

    /// Accepts exactly 40 lowercase hex digits; anything else (upper case, other lengths,
    /// `../`, NUL, …) is `None`, so no other text ever reaches a store or a file name.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes: [u8; 40] = text.as_bytes().try_into().ok()?;
        // Every request with a cookie parses one: without an early exit the compiler
        // checks the 40 bytes with vector instructions.
        let hex = bytes.iter().fold(true, |hex, b| {
            hex & ((b.wrapping_sub(b'0') < 10) | (b.wrapping_sub(b'a') < 6))
        });
        hex.then_some(Self(bytes))
    }

    /// The 20 random bytes the id spells, for compact keys.
    pub(crate) fn to_bytes(self) -> [u8; 20] {
        // Eight digits at a time (the RAM store decodes an id on every request). In each
        // byte, `0`–`9` (0x30–0x39) and `a`–`f` (0x61–0x66) have the digit's value in
        // their low four bits, plus 9 for a letter (bit 6 set).
        const LOW: u64 = 0x0f0f_0f0f_0f0f_0f0f;
        const ONES: u64 = 0x0101_0101_0101_0101;
        let mut bytes = [0; 20];
        for (out, digits) in bytes.chunks_exact_mut(4).zip(self.0.chunks_exact(8)) {
            let mut word = [0; 8];
            word.copy_from_slice(digits);
            let word = u64::from_le_bytes(word);
            let nibbles = (word & LOW) + 9 * ((word >> 6) & ONES);
            // Each pair of digits into the low byte of its 16-bit lane, then the four lanes
            // packed into four bytes.
            let pairs =
                ((nibbles & 0x00ff_00ff_00ff_00ff) << 4) | ((nibbles >> 8) & 0x00ff_00ff_00ff_00ff);
            let halves = (pairs | (pairs >> 8)) & 0x0000_ffff_0000_ffff;
            let packed = (halves | (halves >> 16)) & 0xffff_ffff;
            out.copy_from_slice(&packed.to_le_bytes()[..4]);
        }
        bytes
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        std::str::from_utf8(&self.0).expect("hex digits are ASCII")
    }
}

/// Hashed as five words rather than as 40 bytes: ids are looked up on every request, and
/// a seeded hasher mixes a word in a step or two.
impl std::hash::Hash for SessionId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for word in self.0.chunks_exact(8) {
            let mut bytes = [0; 8];
            bytes.copy_from_slice(word);
            state.write_u64(u64::from_le_bytes(bytes));
        }
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::SessionId;

    #[test]
    fn the_bytes_are_the_ones_the_digits_spell() {
        let text = "0123456789abcdeffedcba98765432100f1e2d3c";
        let id = SessionId::parse(text).unwrap();
        let spelled: Vec<u8> = (0..20)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        assert_eq!(id.to_bytes().to_vec(), spelled);
        for _ in 0..1000 {
            let id = SessionId::generate();
            let hex: String = id.to_bytes().iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex, id.as_str());
        }
    }

    #[test]
    fn generated_ids_are_40_lowercase_hex_and_differ() {
        let a = SessionId::generate();
        let b = SessionId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 40);
        assert_eq!(SessionId::parse(a.as_str()), Some(a));
    }

    #[test]
    fn only_exact_ids_parse() {
        let good = "0123456789abcdef0123456789abcdef01234567";
        assert!(SessionId::parse(good).is_some());
        for bad in [
            "",
            &good[..39],
            &format!("{good}0"),
            &good.to_uppercase(),
            "../../../../../../../../../../etc/passwd",
            "0123456789abcdef0123456789abcdef0123456\0",
            "0123456789abcdef0123456789abcdef0123456é",
            &"a".repeat(4096),
        ] {
            assert_eq!(SessionId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn bytes_are_the_hex_digits_pairs() {
        let id = SessionId::parse("00ff10a9b3c4d5e6f708192a3b4c5d6e7f8091a2").unwrap();
        let bytes = id.to_bytes();
        assert_eq!(bytes[..4], [0x00, 0xff, 0x10, 0xa9]);
        assert_eq!(bytes[19], 0xa2);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, id.as_str());
    }
}
