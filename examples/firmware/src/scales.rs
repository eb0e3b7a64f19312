//! The weight scales of the footprint firmwares' random models, computed at compile time (no
//! square root is linked).

/// `2^shift / (127·√n)`: the int8 multiplier of a row whose largest weight is `1/√n`.
#[allow(dead_code)] // footprint.rs uses only `inv_sqrt`
pub const fn multiplier(shift: u32, n: usize) -> i32 {
    ((1u64 << shift) / (127 * 127 * n as u64).isqrt()) as i32
}

/// `1/√n` at compile time (Newton's iteration), so that no square root is linked.
#[allow(dead_code)] // footprint_q8.rs uses only `multiplier`
pub const fn inv_sqrt(n: f32) -> f32 {
    let mut x = 1.0 / n; // below 1/√n: the iteration rises monotonically to it
    let mut i = 0;
    while i < 40 {
        x *= 1.5 - 0.5 * n * x * x;
        i += 1;
    }
    x
}
