//! Little-endian bytes in and out of a buffer, without a heap and without a panic: every read of
//! bytes that are not there is [`Error::Truncated`], every write past the end
//! [`Error::BufferTooSmall`].
//!
//! The model format ([`crate::format`]) and the host's checkpoints share these two cursors, so a
//! field is read and written the same way in both.
//!
//! ```
//! use micrornn::codec::bytes::{ByteReader, ByteWriter};
//! let mut buffer = [0u8; 10];
//! let mut writer = ByteWriter::new(&mut buffer);
//! writer.put_u16(7)?;
//! writer.put_f32(-1.5)?;
//! writer.put_u32(0xDEAD_BEEF)?;
//! assert_eq!(writer.position(), 10);
//! assert!(writer.put_u16(1).is_err()); // no room left
//!
//! let mut reader = ByteReader::new(&buffer);
//! assert_eq!(reader.u16()?, 7);
//! assert_eq!(reader.f32()?, -1.5);
//! assert_eq!(reader.u32()?, 0xDEAD_BEEF);
//! assert_eq!(reader.u16(), Err(micrornn::Error::Truncated));
//! # Ok::<(), micrornn::Error>(())
//! ```

use crate::Error;

/// The `K` bytes of `bytes` at offset `at`, if there are that many (a `const fn`: the
/// compile-time decoders read with it, and so do the run-time ones, so both read the same way).
pub const fn array_at<const K: usize>(bytes: &[u8], at: usize) -> Option<[u8; K]> {
    match bytes.split_at_checked(at) {
        Some((_, rest)) => match rest.first_chunk::<K>() {
            Some(array) => Some(*array),
            None => None,
        },
        None => None,
    }
}

/// The little-endian `u16` at offset `at` of `bytes`, if it is there.
pub const fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    match array_at(bytes, at) {
        Some(b) => Some(u16::from_le_bytes(b)),
        None => None,
    }
}

/// The little-endian `u32` at offset `at` of `bytes`, if it is there.
pub const fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    match array_at(bytes, at) {
        Some(b) => Some(u32::from_le_bytes(b)),
        None => None,
    }
}

/// The little-endian `u32` at offset `at` as a `usize` (saturating where `usize` is narrower,
/// so the size check that follows fails cleanly), if it is there.
pub const fn size_at(bytes: &[u8], at: usize) -> Option<usize> {
    match u32_at(bytes, at) {
        Some(v) if v as u64 > usize::MAX as u64 => Some(usize::MAX),
        Some(v) => Some(v as usize),
        None => None,
    }
}

/// The `K` consecutive sizes ([`size_at`]) starting at offset `at`, if they are all there (a
/// header's shape fields).
pub const fn sizes_at<const K: usize>(bytes: &[u8], at: usize) -> Option<[usize; K]> {
    let mut sizes = [0usize; K];
    let mut i = 0;
    while i < K {
        let Some(size) = size_at(bytes, at + 4 * i) else {
            return None;
        };
        sizes[i] = size;
        i += 1;
    }
    Some(sizes)
}

/// Fills `values` with the consecutive little-endian `f32`s at the start of `raw`; `false`
/// (and `values` partly written) if `raw` is too short. Callers check the length first.
pub const fn f32s_from(mut raw: &[u8], values: &mut [f32]) -> bool {
    let mut i = 0;
    while i < values.len() {
        let Some((word, rest)) = raw.split_first_chunk::<4>() else {
            return false;
        };
        values[i] = f32::from_le_bytes(*word);
        raw = rest;
        i += 1;
    }
    true
}

/// Sequential little-endian reads from a byte slice.
#[derive(Clone, Debug)]
pub struct ByteReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> ByteReader<'a> {
    /// A reader at the start of `bytes`.
    pub const fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    /// A reader at offset `at` of `bytes` (reads fail if `at` is past the end).
    pub const fn at(bytes: &'a [u8], at: usize) -> Self {
        Self { bytes, at }
    }

    /// Bytes read so far (the offset of the next read).
    pub const fn position(&self) -> usize {
        self.at
    }

    /// The next `n` bytes, borrowed from the input.
    ///
    /// # Errors
    /// [`Error::Truncated`] if fewer than `n` bytes are left (the position does not move).
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.at.checked_add(n).ok_or(Error::Truncated)?;
        let slice = self.bytes.get(self.at..end).ok_or(Error::Truncated)?;
        self.at = end;
        Ok(slice)
    }

    /// The next `K` bytes as an array.
    ///
    /// # Errors
    /// [`Error::Truncated`] if fewer than `K` bytes are left.
    pub fn array<const K: usize>(&mut self) -> Result<[u8; K], Error> {
        self.take(K)?.try_into().map_err(|_| Error::Truncated)
    }

    /// A `u8`.
    ///
    /// # Errors
    /// [`Error::Truncated`] at the end of the bytes.
    pub fn u8(&mut self) -> Result<u8, Error> {
        self.array().map(u8::from_le_bytes)
    }

    /// A little-endian `u16`.
    ///
    /// # Errors
    /// [`Error::Truncated`] if fewer than 2 bytes are left.
    pub fn u16(&mut self) -> Result<u16, Error> {
        self.array().map(u16::from_le_bytes)
    }

    /// A little-endian `u32`.
    ///
    /// # Errors
    /// [`Error::Truncated`] if fewer than 4 bytes are left.
    pub fn u32(&mut self) -> Result<u32, Error> {
        self.array().map(u32::from_le_bytes)
    }

    /// A little-endian `u32` as a `usize` (saturating on 16-bit targets, where no such buffer
    /// can exist, so the size check that follows fails cleanly).
    ///
    /// # Errors
    /// [`Error::Truncated`] if fewer than 4 bytes are left.
    pub fn size(&mut self) -> Result<usize, Error> {
        self.u32().map(|v| usize::try_from(v).unwrap_or(usize::MAX))
    }

    /// A little-endian `u64`.
    ///
    /// # Errors
    /// [`Error::Truncated`] if fewer than 8 bytes are left.
    pub fn u64(&mut self) -> Result<u64, Error> {
        self.array().map(u64::from_le_bytes)
    }

    /// A little-endian `f32`.
    ///
    /// # Errors
    /// [`Error::Truncated`] if fewer than 4 bytes are left.
    pub fn f32(&mut self) -> Result<f32, Error> {
        self.array().map(f32::from_le_bytes)
    }

    /// Fills `values` with consecutive little-endian `f32`s.
    ///
    /// # Errors
    /// [`Error::Truncated`] if fewer than `4 · values.len()` bytes are left; `values` is then
    /// unchanged.
    pub fn f32s_into(&mut self, values: &mut [f32]) -> Result<(), Error> {
        let n = values.len().checked_mul(4).ok_or(Error::Truncated)?;
        let raw = self.take(n)?;
        for (value, bytes) in values.iter_mut().zip(raw.chunks_exact(4)) {
            let mut word = [0u8; 4];
            word.copy_from_slice(bytes);
            *value = f32::from_le_bytes(word);
        }
        Ok(())
    }
}

/// Sequential little-endian writes into a byte buffer.
#[derive(Debug)]
pub struct ByteWriter<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl<'a> ByteWriter<'a> {
    /// A writer at the start of `out`.
    pub fn new(out: &'a mut [u8]) -> Self {
        Self { out, at: 0 }
    }

    /// Bytes written so far.
    pub const fn position(&self) -> usize {
        self.at
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        self.out.get(..self.at).unwrap_or_default()
    }

    /// Appends `bytes`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if they do not fit (nothing is written then).
    pub fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let needed = self.at.saturating_add(bytes.len());
        let slot = self
            .out
            .get_mut(self.at..needed)
            .ok_or(Error::BufferTooSmall { needed })?;
        slot.copy_from_slice(bytes);
        self.at = needed;
        Ok(())
    }

    /// Appends a `u8`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if it does not fit.
    pub fn put_u8(&mut self, value: u8) -> Result<(), Error> {
        self.put(&[value])
    }

    /// Appends a little-endian `u16`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if it does not fit.
    pub fn put_u16(&mut self, value: u16) -> Result<(), Error> {
        self.put(&value.to_le_bytes())
    }

    /// Appends a little-endian `u32`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if it does not fit.
    pub fn put_u32(&mut self, value: u32) -> Result<(), Error> {
        self.put(&value.to_le_bytes())
    }

    /// Appends a size as a little-endian `u32`.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] if it exceeds `u32::MAX`, [`Error::BufferTooSmall`] if it does
    /// not fit.
    pub fn put_size(&mut self, value: usize) -> Result<(), Error> {
        let value =
            u32::try_from(value).map_err(|_| Error::InvalidSetting("a size exceeds u32::MAX"))?;
        self.put_u32(value)
    }

    /// Appends a little-endian `u64`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if it does not fit.
    pub fn put_u64(&mut self, value: u64) -> Result<(), Error> {
        self.put(&value.to_le_bytes())
    }

    /// Appends a little-endian `f32`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if it does not fit.
    pub fn put_f32(&mut self, value: f32) -> Result<(), Error> {
        self.put(&value.to_le_bytes())
    }

    /// Appends consecutive little-endian `f32`s.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if they do not fit (nothing is written then).
    pub fn put_f32s(&mut self, values: &[f32]) -> Result<(), Error> {
        let needed = values.len().saturating_mul(4).saturating_add(self.at);
        let slot = self
            .out
            .get_mut(self.at..needed)
            .ok_or(Error::BufferTooSmall { needed })?;
        for (bytes, value) in slot.chunks_exact_mut(4).zip(values) {
            bytes.copy_from_slice(&value.to_le_bytes());
        }
        self.at = needed;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_was_written() {
        let mut buffer = [0u8; 31];
        let mut w = ByteWriter::new(&mut buffer);
        w.put_u8(9).unwrap();
        w.put_u16(0x1234).unwrap();
        w.put_u32(0x89AB_CDEF).unwrap();
        w.put_size(77).unwrap();
        w.put_u64(u64::MAX - 5).unwrap();
        w.put_f32s(&[1.5, -0.0, f32::MIN_POSITIVE]).unwrap();
        assert_eq!(w.position(), 31);
        assert_eq!(&w.written()[1..3], &[0x34, 0x12]);
        let mut r = ByteReader::new(&buffer);
        assert_eq!(r.u8(), Ok(9));
        assert_eq!(r.u16(), Ok(0x1234));
        assert_eq!(r.u32(), Ok(0x89AB_CDEF));
        assert_eq!(r.size(), Ok(77));
        assert_eq!(r.u64(), Ok(u64::MAX - 5));
        let mut floats = [0.0f32; 3];
        r.f32s_into(&mut floats).unwrap();
        assert_eq!(
            floats.map(f32::to_bits),
            [1.5f32, -0.0, f32::MIN_POSITIVE].map(f32::to_bits)
        );
        assert_eq!(r.position(), 31);
    }

    #[test]
    fn reads_past_the_end_are_truncated_and_do_not_move() {
        let bytes = [1u8, 2, 3];
        let mut r = ByteReader::new(&bytes);
        assert_eq!(r.u32(), Err(Error::Truncated));
        assert_eq!(r.position(), 0);
        assert_eq!(r.u16(), Ok(0x0201));
        assert_eq!(r.u16(), Err(Error::Truncated));
        let mut floats = [7.0f32; 1];
        assert_eq!(r.f32s_into(&mut floats), Err(Error::Truncated));
        assert_eq!(floats, [7.0]);
        assert_eq!(r.take(usize::MAX), Err(Error::Truncated));
        assert_eq!(ByteReader::at(&bytes, 10).u8(), Err(Error::Truncated));
        let mut r = ByteReader::at(&bytes, 2);
        assert_eq!(r.u8(), Ok(3));
        assert_eq!(r.u8(), Err(Error::Truncated));
    }

    #[test]
    fn writes_past_the_end_are_refused_and_write_nothing() {
        let mut buffer = [0u8; 6];
        let mut w = ByteWriter::new(&mut buffer);
        w.put_u32(1).unwrap();
        assert_eq!(w.put_u32(2), Err(Error::BufferTooSmall { needed: 8 }));
        assert_eq!(w.put_f32s(&[1.0]), Err(Error::BufferTooSmall { needed: 8 }));
        assert_eq!(w.position(), 4);
        w.put_u16(3).unwrap();
        assert_eq!(buffer, [1, 0, 0, 0, 3, 0]);
        #[cfg(target_pointer_width = "64")]
        {
            let mut small = [0u8; 8];
            let mut w = ByteWriter::new(&mut small);
            assert!(matches!(w.put_size(1 << 40), Err(Error::InvalidSetting(_))));
        }
    }
}
