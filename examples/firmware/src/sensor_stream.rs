//! The sensor classifier's recorded series and its output line, shared by the firmwares
//! (`bin/sensor.rs`, `bin/sensor_q8.rs`) and the host test that checks it (`tests/firmware_sensor.rs` includes this
//! file with `#[path]`), so both read the same numbers and print the same line.
//!
//! A samples file (`models/basicmotions-test.samples`, written by
//! `tests/firmware_sensor.rs`'s ignored `write_firmware_files`) holds equal-length series of
//! integer samples, as a sensor delivers them, with one scale per channel. Little-endian:
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 4 | magic `MRSS` |
//! | 4 | 1 | bytes per value `W`: 1 (`i8`) or 2 (`i16`) |
//! | 5 | 1 | channels `C`, `1..=16` |
//! | 6 | 2 | series `S` |
//! | 8 | 2 | steps per series `T` |
//! | 10 | 2 | 0 |
//! | 12 | 4·C | `f32` scale of each channel: a sample's value is `integer × scale` |
//! | … | S | each series' recorded class (an index into the model's class names) |
//! | … | S·T·C·W | the values, series by series, step by step, channel by channel |

use core::fmt::{self, Write};

/// The first bytes of a samples file.
pub const MAGIC: [u8; 4] = *b"MRSS";
/// Channels a samples file may have.
pub const MAX_CHANNELS: usize = 16;
/// Bytes before the scales.
const HEAD: usize = 12;

/// A parsed samples file: the sizes and scales, and the bytes of the labels and values.
#[derive(Clone, Copy, Debug)]
pub struct Samples<'a> {
    /// Bytes per value: 1 (`i8`) or 2 (`i16`).
    pub width: usize,
    /// Channels per sample.
    pub channels: usize,
    /// Series in the file.
    pub series: usize,
    /// Steps (samples) per series.
    pub steps: usize,
    /// Scale of each channel (past `channels`: 0).
    pub scales: [f32; MAX_CHANNELS],
    labels: &'a [u8],
    values: &'a [u8],
}

impl<'a> Samples<'a> {
    /// Reads the head of `bytes` and checks that the length is exactly what it announces.
    ///
    /// # Errors
    /// A one-line reason for a file that is not a samples file.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, &'static str> {
        let head = bytes.get(..HEAD).ok_or("samples: shorter than the head")?;
        if head[..4] != MAGIC {
            return Err("samples: not a samples file (magic)");
        }
        let (width, channels) = (usize::from(head[4]), usize::from(head[5]));
        let series = usize::from(u16::from_le_bytes([head[6], head[7]]));
        let steps = usize::from(u16::from_le_bytes([head[8], head[9]]));
        if !(width == 1 || width == 2) || !(1..=MAX_CHANNELS).contains(&channels) {
            return Err("samples: bad value width or channel count");
        }
        let labels_at = HEAD + 4 * channels;
        let values_at = labels_at + series;
        if bytes.len() != values_at + series * steps * channels * width {
            return Err("samples: the length does not match the head");
        }
        let mut scales = [0.0f32; MAX_CHANNELS];
        for (scale, b) in scales
            .iter_mut()
            .zip(bytes[HEAD..labels_at].chunks_exact(4))
        {
            *scale = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            if !scale.is_finite() || *scale <= 0.0 {
                return Err("samples: a scale is not a positive number");
            }
        }
        Ok(Self {
            width,
            channels,
            series,
            steps,
            scales,
            labels: &bytes[labels_at..values_at],
            values: &bytes[values_at..],
        })
    }

    /// The recorded class of series `s`.
    pub fn label(&self, s: usize) -> Option<usize> {
        self.labels.get(s).map(|&l| usize::from(l))
    }

    /// The raw integer of channel `c` of step `t` of series `s`.
    pub fn raw(&self, s: usize, t: usize, c: usize) -> Option<i16> {
        let at = ((s * self.steps + t) * self.channels + c) * self.width;
        let bytes = self.values.get(at..at + self.width)?;
        Some(match *bytes {
            [b] => i16::from(b as i8),
            [lo, hi] => i16::from_le_bytes([lo, hi]),
            _ => return None,
        })
    }

    /// Step `t` of series `s` as the sensor's values (`integer × scale`, not normalized) in the
    /// first channels of `sample` (the rest 0); `None` past the file.
    pub fn sample<const I: usize>(&self, s: usize, t: usize) -> Option<[f32; I]> {
        if s >= self.series || t >= self.steps {
            return None;
        }
        let mut sample = [0.0f32; I];
        for (c, (value, scale)) in sample.iter_mut().zip(&self.scales).enumerate() {
            if c < self.channels {
                *value = f32::from(self.raw(s, t, c)?) * scale;
            }
        }
        Some(sample)
    }
}

/// One printed line, in a fixed buffer (no heap).
pub struct Line {
    bytes: [u8; 128],
    len: usize,
}

impl Line {
    /// The line printed at the end of window `window` (counted from 1): the predicted class,
    /// its probability to 3 decimals, and the recorded class.
    ///
    /// The probability is printed from an integer count of thousandths: `core`'s float
    /// formatting would add about 14 KB of flash and 2 KB of stack to the firmware.
    pub fn result(window: usize, predicted: &str, probability: f32, recorded: &str) -> Self {
        let mut line = Self {
            bytes: [0; 128],
            len: 0,
        };
        // Round to the nearest thousandth (a probability is in [0, 1]; `as` saturates).
        let thousandths = (probability * 1000.0 + 0.5) as u32;
        // A name too long for the buffer is cut short; the line is still printed.
        let _ = write!(
            line,
            "window {window:>2}: {predicted} p={}.{:03} (recorded: {recorded})",
            thousandths / 1000,
            thousandths % 1000
        );
        line
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("(not UTF-8)")
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let to = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        to.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
