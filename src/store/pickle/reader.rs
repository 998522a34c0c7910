//! Reading a pickle's bytes: lengths checked against the input before anything is taken.

use super::PickleError;

/// The pickle's bytes, read front to back.
pub(super) struct Reader<'a> {
    pub(super) data: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], PickleError> {
        let rest = &self.data[self.pos..];
        // Checked against the input before any allocation, so a huge declared length is
        // just a truncated pickle.
        match usize::try_from(n) {
            Ok(n) if n <= rest.len() => {
                self.pos += n;
                Ok(&rest[..n])
            }
            _ => Err(PickleError::Truncated {
                offset: self.pos,
                what,
            }),
        }
    }

    pub(super) fn byte(&mut self, what: &'static str) -> Result<u8, PickleError> {
        Ok(self.take(1, what)?[0])
    }

    pub(super) fn le<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], PickleError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N as u64, what)?);
        Ok(out)
    }

    pub(super) fn line(&mut self, what: &'static str) -> Result<&'a [u8], PickleError> {
        let rest = &self.data[self.pos..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(PickleError::Truncated {
                offset: self.data.len(),
                what,
            })?;
        self.pos += end + 1;
        Ok(&rest[..end])
    }
}
