//! Random initialization of weight tensors, written with `libm` so firmware and host draw the
//! same numbers from the same seed.

use crate::kernels::math;
use rand_core::Rng;

/// A uniform draw in `[0, 1)` with 24 bits of precision.
#[inline]
pub fn unit<R: Rng + ?Sized>(rng: &mut R) -> f32 {
    (rng.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// Fills `values` uniformly in `[-limit, limit)`.
pub fn uniform<R: Rng + ?Sized>(rng: &mut R, values: &mut [f32], limit: f32) {
    for v in values {
        *v = (2.0 * unit(rng) - 1.0) * limit;
    }
}

/// Fills `values` with `N(0, 1)·scale` draws (Box–Muller, both outputs of each pair used).
pub fn gaussian<R: Rng + ?Sized>(rng: &mut R, values: &mut [f32], scale: f32) {
    let mut pairs = values.chunks_mut(2);
    for pair in &mut pairs {
        // 1 - unit() is in (0, 1], so the log is finite.
        let radius = math::sqrt(-2.0 * math::ln(1.0 - unit(rng)));
        let angle = 2.0 * core::f32::consts::PI * unit(rng);
        let (sin, cos) = (
            math::cos(angle - core::f32::consts::FRAC_PI_2),
            math::cos(angle),
        );
        let mut draws = [radius * cos, radius * sin].into_iter();
        for v in pair {
            *v = draws.next().unwrap_or(0.0) * scale;
        }
    }
}
