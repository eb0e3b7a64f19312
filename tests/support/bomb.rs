//! Hostile files for the tests of issue 20, built in the test (small on disk): an `.npz` whose
//! entries are deflated zeros behind a `.npy` header declaring a huge shape, and 2 GiB sparse
//! files (which take no disk: `File::set_len`).
//!
//! The deflate stream is written by hand with the fixed Huffman code (RFC 1951 §3.2.6): one
//! literal zero, then copies of 258 bytes at distance 1, 13 bits each, so 512 MiB of zeros take
//! 3.3 MB and are written in a few milliseconds. The zip around it is the plain local header,
//! central directory and end record (APPNOTE 4.3), with the entries' real CRC-32 and sizes.

#![allow(dead_code)]

use std::path::Path;

/// A `float32` shape of 805306368 elements: 3 GiB, as in the issue.
pub const HUGE_ELEMENTS: u64 = 805_306_368;

/// Deflate bits, least significant first.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    filled: u32,
}

impl Bits {
    fn new() -> Self {
        Self {
            out: Vec::new(),
            acc: 0,
            filled: 0,
        }
    }

    /// `n` bits of `value`, least significant first (header fields).
    fn put(&mut self, value: u32, n: u32) {
        self.acc |= u64::from(value) << self.filled;
        self.filled += n;
        while self.filled >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.filled -= 8;
        }
    }

    /// A Huffman code of `n` bits, most significant first.
    fn code(&mut self, code: u32, n: u32) {
        self.put(code.reverse_bits() >> (32 - n), n);
    }

    /// A literal byte in the fixed code.
    fn literal(&mut self, byte: u8) {
        if byte < 144 {
            self.code(0x30 + u32::from(byte), 8);
        } else {
            self.code(0x190 + u32::from(byte - 144), 9);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.filled > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// One final fixed-Huffman block: `prefix`, then `zeros` zero bytes.
fn deflate(prefix: &[u8], zeros: u64) -> Vec<u8> {
    let mut bits = Bits::new();
    bits.put(1, 1); // BFINAL
    bits.put(1, 2); // BTYPE 01: fixed Huffman codes
    for &b in prefix {
        bits.literal(b);
    }
    let mut left = zeros;
    if left > 0 {
        bits.literal(0);
        left -= 1;
    }
    while left >= 258 {
        bits.code(0b1100_0101, 8); // length code 285: 258 bytes
        bits.code(0, 5); // distance code 0: 1 byte back
        left -= 258;
    }
    for _ in 0..left {
        bits.literal(0);
    }
    bits.code(0, 7); // end of block (256)
    bits.finish()
}

/// CRC-32 of `prefix` followed by `zeros` zero bytes.
fn crc(prefix: &[u8], zeros: u64) -> u32 {
    let chunk = vec![0u8; 1 << 20];
    let mut crc = micrornn::format::crc32(prefix);
    let mut left = zeros;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        crc = micrornn::format::crc32_update(crc, &chunk[..n]);
        left -= n as u64;
    }
    crc
}

/// A `.npy` version-1 header declaring `shape` of `descr`.
pub fn npy_header(descr: &str, shape: &str) -> Vec<u8> {
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

/// A zip of deflated entries: (name, first bytes, zero bytes after them).
pub fn zip(entries: &[(&str, Vec<u8>, u64)]) -> Vec<u8> {
    let (mut out, mut directory) = (Vec::new(), Vec::new());
    for (name, prefix, zeros) in entries {
        let data = deflate(prefix, *zeros);
        let sum = crc(prefix, *zeros);
        let fields = |out: &mut Vec<u8>| {
            out.extend_from_slice(&8u16.to_le_bytes()); // deflated
            out.extend_from_slice(&[0; 4]); // time, date
            out.extend_from_slice(&sum.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&((prefix.len() as u64 + zeros) as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes()); // extra field
        };
        let offset = out.len() as u32;
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&[20, 0, 0, 0]); // version needed, flags
        fields(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&data);
        directory.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        directory.extend_from_slice(&[20, 0, 20, 0, 0, 0]); // made by, needed, flags
        fields(&mut directory);
        directory.extend_from_slice(&[0; 10]); // comment, disk, internal and external attributes
        directory.extend_from_slice(&offset.to_le_bytes());
        directory.extend_from_slice(name.as_bytes());
    }
    let directory_at = out.len() as u32;
    out.extend_from_slice(&directory);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // disks
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(directory.len() as u32).to_le_bytes());
    out.extend_from_slice(&directory_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// The bomb of the issue: two entries (`rnn.weight_ih_l0`, `rnn.weight_hh_l0`) declaring shape
/// (805306368,) float32 — 3 GiB each — whose data are `zeros` deflated zero bytes each.
pub fn npz_bomb(zeros: u64) -> Vec<u8> {
    let header = npy_header("<f4", &format!("({HUGE_ELEMENTS},)"));
    zip(&[
        ("rnn.weight_ih_l0.npy", header.clone(), zeros),
        ("rnn.weight_hh_l0.npy", header, zeros),
    ])
}

/// A sparse file of 2 GiB at `path` starting with `head` (the rest reads as zeros).
pub fn sparse_2gib(path: &Path, head: &[u8]) {
    std::fs::write(path, head).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.set_len(2 << 30).unwrap();
}

/// The peak resident memory of this process so far (`VmHWM`), in bytes; `None` off Linux.
pub fn peak_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
