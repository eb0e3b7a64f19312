//! x86_64 kernels: SSE2 (every x86_64 CPU) and AVX2+FMA.
//!
//! Each ISA implements [`Vector`] for its register type; the algorithms live once in
//! [`super::vector`]. The `#[target_feature]` wrappers below are the only ISA-specific code:
//! they compile the shared bodies with that ISA's instructions.
//!
//! The tables are private: [`super::active`] and [`super::variants`] hand out [`AVX2`] only after
//! checking that the CPU has AVX2 and FMA, which is what makes its safe function pointers sound.

use super::Kernels;
use super::vector::Vector;
use core::arch::x86_64::*;

/// Four `f32` lanes in an SSE register.
#[derive(Clone, Copy)]
pub(crate) struct Sse2(__m128);

// SAFETY: every method uses SSE2 intrinsics only, and SSE2 is part of the x86_64 baseline.
unsafe impl Vector for Sse2 {
    const LANES: usize = 4;

    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe { Self(_mm_set1_ps(x)) }
    }
    #[inline(always)]
    unsafe fn load(s: &[f32]) -> Self {
        debug_assert!(s.len() >= 4);
        // SAFETY: the caller guarantees 4 readable floats; unaligned load.
        Self(unsafe { _mm_loadu_ps(s.as_ptr()) })
    }
    #[inline(always)]
    unsafe fn store(self, s: &mut [f32]) {
        debug_assert!(s.len() >= 4);
        // SAFETY: the caller guarantees 4 writable floats; unaligned store.
        unsafe { _mm_storeu_ps(s.as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe { Self(_mm_add_ps(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe { Self(_mm_sub_ps(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe { Self(_mm_mul_ps(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn div(self, o: Self) -> Self {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe { Self(_mm_div_ps(self.0, o.0)) }
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe { Self(_mm_add_ps(_mm_mul_ps(self.0, b.0), c.0)) }
    }
    #[inline(always)]
    unsafe fn min_of(limit: Self, x: Self) -> Self {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe {
            // minps returns its second operand when either is NaN: NaN in `x` survives.
            Self(_mm_min_ps(limit.0, x.0))
        }
    }
    #[inline(always)]
    unsafe fn max_of(limit: Self, x: Self) -> Self {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe { Self(_mm_max_ps(limit.0, x.0)) }
    }
    #[inline(always)]
    unsafe fn sqrt(self) -> Self {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe { Self(_mm_sqrt_ps(self.0)) }
    }
    #[inline(always)]
    unsafe fn rsqrt(self) -> Self {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe {
            // 12-bit estimate, then one Newton step: y·(1.5 - 0.5·x·y²).
            let y = _mm_rsqrt_ps(self.0);
            let half_x = _mm_mul_ps(self.0, _mm_set1_ps(0.5));
            let t = _mm_sub_ps(_mm_set1_ps(1.5), _mm_mul_ps(half_x, _mm_mul_ps(y, y)));
            Self(_mm_mul_ps(y, t))
        }
    }
    #[inline(always)]
    unsafe fn round(self) -> Self {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe { Self(_mm_cvtepi32_ps(_mm_cvtps_epi32(self.0))) }
    }
    #[inline(always)]
    unsafe fn pow2i(self) -> Self {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe {
            let n = _mm_cvtps_epi32(self.0);
            let bits = _mm_slli_epi32::<23>(_mm_add_epi32(n, _mm_set1_epi32(127)));
            Self(_mm_castsi128_ps(bits))
        }
    }
    #[inline(always)]
    unsafe fn sum(self) -> f32 {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe {
            let high = _mm_movehl_ps(self.0, self.0);
            let pair = _mm_add_ps(self.0, high);
            let odd = _mm_shuffle_ps::<0b01>(pair, pair);
            _mm_cvtss_f32(_mm_add_ss(pair, odd))
        }
    }
    #[inline(always)]
    unsafe fn max_lane(self) -> f32 {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe {
            let high = _mm_movehl_ps(self.0, self.0);
            let pair = _mm_max_ps(self.0, high);
            let odd = _mm_shuffle_ps::<0b01>(pair, pair);
            _mm_cvtss_f32(_mm_max_ss(pair, odd))
        }
    }
}

/// Eight `f32` lanes in an AVX register, with FMA.
#[derive(Clone, Copy)]
pub(crate) struct Avx2(__m256);

/// Lane masks for `_mm256_maskload_ps`: the 8 entries from `8 - n` enable the first `n` lanes.
const MASKS: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];

// SAFETY: every method uses AVX, AVX2 and FMA intrinsics only; callers promise the CPU has them.
unsafe impl Vector for Avx2 {
    const LANES: usize = 8;

    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        // SAFETY: the caller promises AVX.
        Self(unsafe { _mm256_set1_ps(x) })
    }
    #[inline(always)]
    unsafe fn load(s: &[f32]) -> Self {
        debug_assert!(s.len() >= 8);
        // SAFETY: the caller guarantees 8 readable floats and AVX; unaligned load.
        Self(unsafe { _mm256_loadu_ps(s.as_ptr()) })
    }
    #[inline(always)]
    unsafe fn store(self, s: &mut [f32]) {
        debug_assert!(s.len() >= 8);
        // SAFETY: the caller guarantees 8 writable floats and AVX; unaligned store.
        unsafe { _mm256_storeu_ps(s.as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    unsafe fn load_partial(s: &[f32]) -> Self {
        let n = s.len().min(8);
        let mask = MASKS.get(8 - n..16 - n).unwrap_or(&MASKS[8..]);
        // SAFETY: the mask enables exactly the first `n ≤ s.len()` lanes, so only readable
        // floats are touched (masked-off lanes are not accessed); the caller promises AVX2.
        unsafe {
            let mask = _mm256_loadu_si256(mask.as_ptr().cast());
            Self(_mm256_maskload_ps(s.as_ptr(), mask))
        }
    }
    #[inline(always)]
    unsafe fn store_partial(self, s: &mut [f32]) {
        let n = s.len().min(8);
        let mask = MASKS.get(8 - n..16 - n).unwrap_or(&MASKS[8..]);
        // SAFETY: the mask enables exactly the first `n ≤ s.len()` lanes, so only writable
        // floats are touched; the caller promises AVX2.
        unsafe {
            let mask = _mm256_loadu_si256(mask.as_ptr().cast());
            _mm256_maskstore_ps(s.as_mut_ptr(), mask, self.0)
        }
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        // SAFETY: the caller promises AVX.
        Self(unsafe { _mm256_add_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        // SAFETY: the caller promises AVX.
        Self(unsafe { _mm256_sub_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        // SAFETY: the caller promises AVX.
        Self(unsafe { _mm256_mul_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn div(self, o: Self) -> Self {
        // SAFETY: the caller promises AVX.
        Self(unsafe { _mm256_div_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        // SAFETY: the caller promises FMA.
        Self(unsafe { _mm256_fmadd_ps(self.0, b.0, c.0) })
    }
    #[inline(always)]
    unsafe fn min_of(limit: Self, x: Self) -> Self {
        // SAFETY: the caller promises AVX. vminps returns its second operand on NaN.
        Self(unsafe { _mm256_min_ps(limit.0, x.0) })
    }
    #[inline(always)]
    unsafe fn max_of(limit: Self, x: Self) -> Self {
        // SAFETY: the caller promises AVX.
        Self(unsafe { _mm256_max_ps(limit.0, x.0) })
    }
    #[inline(always)]
    unsafe fn sqrt(self) -> Self {
        // SAFETY: the caller promises AVX.
        Self(unsafe { _mm256_sqrt_ps(self.0) })
    }
    #[inline(always)]
    unsafe fn rsqrt(self) -> Self {
        // SAFETY: the caller promises AVX and FMA.
        unsafe {
            // 12-bit estimate, then one Newton step: y·(1.5 - 0.5·x·y²).
            let y = _mm256_rsqrt_ps(self.0);
            let half_x = _mm256_mul_ps(self.0, _mm256_set1_ps(0.5));
            let t = _mm256_fnmadd_ps(half_x, _mm256_mul_ps(y, y), _mm256_set1_ps(1.5));
            Self(_mm256_mul_ps(y, t))
        }
    }
    #[inline(always)]
    unsafe fn round(self) -> Self {
        // SAFETY: the caller promises AVX.
        Self(unsafe {
            _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self.0)
        })
    }
    #[inline(always)]
    unsafe fn pow2i(self) -> Self {
        // SAFETY: the caller promises AVX2.
        unsafe {
            let n = _mm256_cvtps_epi32(self.0);
            let bits = _mm256_slli_epi32::<23>(_mm256_add_epi32(n, _mm256_set1_epi32(127)));
            Self(_mm256_castsi256_ps(bits))
        }
    }
    #[inline(always)]
    unsafe fn sum(self) -> f32 {
        // SAFETY: the caller promises AVX (and so SSE).
        unsafe {
            let half = _mm_add_ps(
                _mm256_castps256_ps128(self.0),
                _mm256_extractf128_ps::<1>(self.0),
            );
            Sse2(half).sum()
        }
    }
    #[inline(always)]
    unsafe fn sum4(v: [Self; 4]) -> [f32; 4] {
        let mut out = [0.0f32; 4];
        // SAFETY: the caller promises AVX; `out` has room for the 4 stored floats.
        unsafe {
            let ab = _mm256_hadd_ps(v[0].0, v[1].0);
            let cd = _mm256_hadd_ps(v[2].0, v[3].0);
            let abcd = _mm256_hadd_ps(ab, cd);
            let sums = _mm_add_ps(
                _mm256_castps256_ps128(abcd),
                _mm256_extractf128_ps::<1>(abcd),
            );
            _mm_storeu_ps(out.as_mut_ptr(), sums);
        }
        out
    }
    #[inline(always)]
    unsafe fn max_lane(self) -> f32 {
        // SAFETY: the caller promises AVX (and so SSE).
        unsafe {
            let half = _mm_max_ps(
                _mm256_castps256_ps128(self.0),
                _mm256_extractf128_ps::<1>(self.0),
            );
            Sse2(half).max_lane()
        }
    }
}

kernels_for!(sse2, Sse2, "sse2", "sse2");
kernels_for!(avx2, Avx2, "avx2,fma", "avx2+fma");

/// The SSE2 table: every x86_64 CPU can run it.
pub(crate) static SSE2: Kernels = sse2::KERNELS;
/// The AVX2+FMA table: hand out only after checking the CPU (see [`has_avx2_fma`]).
pub(crate) static AVX2: Kernels = avx2::KERNELS;

/// Whether this CPU runs [`AVX2`]: detected at run time (and cached by `std`) with `std`,
/// decided at compile time from `target_feature` without.
#[inline]
pub(crate) fn has_avx2_fma() -> bool {
    #[cfg(feature = "std")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(feature = "std"))]
    {
        cfg!(all(target_feature = "avx2", target_feature = "fma"))
    }
}
