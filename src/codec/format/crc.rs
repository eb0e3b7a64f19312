//! CRC-32 (IEEE 802.3, as zlib's `crc32`): the checksum of model files and checkpoints.

/// CRC-32 (IEEE 802.3, reflected, polynomial `0xEDB88320`), the checksum of zlib and PNG.
///
/// ```
/// assert_eq!(micrornn::format::crc32(b"123456789"), 0xCBF4_3926);
/// ```
pub const fn crc32(bytes: &[u8]) -> u32 {
    crc32_update(0, bytes)
}

/// Continues a CRC-32 over more bytes: `crc32_update(crc32(a), b) == crc32(a ++ b)`.
///
/// A `const fn`, so a model embedded with `include_bytes!` is checked at compile time
/// ([`crate::format::decode_const`]).
pub const fn crc32_update(crc: u32, bytes: &[u8]) -> u32 {
    let mut crc = !crc;
    let mut i = 0;
    while i < bytes.len() {
        // `& 0xFF` keeps the index below 256: the table lookup cannot fail.
        crc = (crc >> 8) ^ CRC_TABLE[((crc ^ bytes[i] as u32) & 0xFF) as usize];
        i += 1;
    }
    !crc
}

/// The 256-entry lookup table of the reflected CRC-32, built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};
