//! aarch64 kernels: NEON (part of the baseline of every aarch64 target with `target_feature =
//! "neon"`, which is the only case in which this module is compiled).
//!
//! [`Vector`] is implemented for a NEON register; the algorithms live once in
//! [`super::vector`].

use super::Kernels;
use super::vector::Vector;
use core::arch::aarch64::*;

/// Four `f32` lanes in a NEON register.
#[derive(Clone, Copy)]
pub(crate) struct Neon(float32x4_t);

// SAFETY: every method uses NEON intrinsics only; the module is compiled only when the target
// has NEON.
unsafe impl Vector for Neon {
    const LANES: usize = 4;

    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        // SAFETY: NEON is enabled for the whole target.
        Self(unsafe { vdupq_n_f32(x) })
    }
    #[inline(always)]
    unsafe fn load(s: &[f32]) -> Self {
        debug_assert!(s.len() >= 4);
        // SAFETY: the caller guarantees 4 readable floats; NEON loads need no alignment.
        Self(unsafe { vld1q_f32(s.as_ptr()) })
    }
    #[inline(always)]
    unsafe fn store(self, s: &mut [f32]) {
        debug_assert!(s.len() >= 4);
        // SAFETY: the caller guarantees 4 writable floats.
        unsafe { vst1q_f32(s.as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        // SAFETY: NEON is enabled for the whole target.
        Self(unsafe { vaddq_f32(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        // SAFETY: NEON is enabled for the whole target.
        Self(unsafe { vsubq_f32(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        // SAFETY: NEON is enabled for the whole target.
        Self(unsafe { vmulq_f32(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn div(self, o: Self) -> Self {
        // SAFETY: NEON is enabled for the whole target.
        Self(unsafe { vdivq_f32(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        // SAFETY: NEON is enabled for the whole target. vfmaq_f32(c, a, b) = c + a·b, fused.
        Self(unsafe { vfmaq_f32(c.0, self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn min_of(limit: Self, x: Self) -> Self {
        // SAFETY: NEON is enabled for the whole target. fmin propagates NaN.
        Self(unsafe { vminq_f32(limit.0, x.0) })
    }
    #[inline(always)]
    unsafe fn max_of(limit: Self, x: Self) -> Self {
        // SAFETY: NEON is enabled for the whole target. fmax propagates NaN.
        Self(unsafe { vmaxq_f32(limit.0, x.0) })
    }
    #[inline(always)]
    unsafe fn sqrt(self) -> Self {
        // SAFETY: NEON is enabled for the whole target.
        Self(unsafe { vsqrtq_f32(self.0) })
    }
    #[inline(always)]
    unsafe fn rsqrt(self) -> Self {
        // SAFETY: NEON is enabled for the whole target.
        unsafe {
            // 8-bit estimate, then two Newton steps (vrsqrtsq gives (3 - a·b) / 2).
            let mut y = vrsqrteq_f32(self.0);
            y = vmulq_f32(y, vrsqrtsq_f32(vmulq_f32(self.0, y), y));
            y = vmulq_f32(y, vrsqrtsq_f32(vmulq_f32(self.0, y), y));
            Self(y)
        }
    }
    #[inline(always)]
    unsafe fn round(self) -> Self {
        // SAFETY: NEON is enabled for the whole target.
        Self(unsafe { vrndnq_f32(self.0) })
    }
    #[inline(always)]
    unsafe fn pow2i(self) -> Self {
        // SAFETY: NEON is enabled for the whole target.
        unsafe {
            let n = vcvtnq_s32_f32(self.0);
            let bits = vshlq_n_s32::<23>(vaddq_s32(n, vdupq_n_s32(127)));
            Self(vreinterpretq_f32_s32(bits))
        }
    }
    #[inline(always)]
    unsafe fn sum(self) -> f32 {
        // SAFETY: NEON is enabled for the whole target.
        unsafe { vaddvq_f32(self.0) }
    }
    #[inline(always)]
    unsafe fn sum4(v: [Self; 4]) -> [f32; 4] {
        let mut out = [0.0f32; 4];
        // SAFETY: NEON is enabled for the whole target; `out` has room for 4 floats.
        unsafe {
            let ab = vpaddq_f32(v[0].0, v[1].0);
            let cd = vpaddq_f32(v[2].0, v[3].0);
            vst1q_f32(out.as_mut_ptr(), vpaddq_f32(ab, cd));
        }
        out
    }
    #[inline(always)]
    unsafe fn max_lane(self) -> f32 {
        // SAFETY: NEON is enabled for the whole target.
        unsafe { vmaxvq_f32(self.0) }
    }
}

kernels_for!(neon, Neon, "neon", "neon");

/// The NEON table.
pub(crate) static NEON: Kernels = neon::KERNELS;
