//! x86_64 kernels: SSE2 (every x86_64 CPU), AVX2+FMA and AVX-512F.
//!
//! Each ISA implements [`Vector`] for its register type; the algorithms live once in
//! [`super::vector`]. The `#[target_feature]` wrappers below are the only ISA-specific code:
//! they compile the shared bodies with that ISA's instructions.
//!
//! The tables are private: [`super::active`] and [`super::variants`] hand out [`AVX2`] and
//! [`AVX512`] only after checking that the CPU has their instructions, which is what makes their
//! safe function pointers sound.

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

/// Sixteen `f32` lanes in an AVX-512 register.
#[derive(Clone, Copy)]
pub(crate) struct Avx512(__m512);

/// The mask that enables the first `min(n, 16)` lanes.
#[inline(always)]
fn first_lanes(n: usize) -> __mmask16 {
    if n >= 16 { u16::MAX } else { (1u16 << n) - 1 }
}

// SAFETY: every method uses AVX-512F intrinsics (and AVX/SSE ones, which AVX-512F implies) only;
// callers promise the CPU has AVX-512F.
unsafe impl Vector for Avx512 {
    const LANES: usize = 16;

    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        // SAFETY: the caller promises AVX-512F.
        Self(unsafe { _mm512_set1_ps(x) })
    }
    #[inline(always)]
    unsafe fn load(s: &[f32]) -> Self {
        debug_assert!(s.len() >= 16);
        // SAFETY: the caller guarantees 16 readable floats and AVX-512F; unaligned load.
        Self(unsafe { _mm512_loadu_ps(s.as_ptr()) })
    }
    #[inline(always)]
    unsafe fn store(self, s: &mut [f32]) {
        debug_assert!(s.len() >= 16);
        // SAFETY: the caller guarantees 16 writable floats and AVX-512F; unaligned store.
        unsafe { _mm512_storeu_ps(s.as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    unsafe fn load_partial(s: &[f32]) -> Self {
        // SAFETY: the mask enables exactly the first `min(s.len(), 16)` lanes, so only readable
        // floats are touched (masked-off lanes are not accessed and read as 0); the caller
        // promises AVX-512F.
        Self(unsafe { _mm512_maskz_loadu_ps(first_lanes(s.len()), s.as_ptr()) })
    }
    #[inline(always)]
    unsafe fn store_partial(self, s: &mut [f32]) {
        // SAFETY: the mask enables exactly the first `min(s.len(), 16)` lanes, so only
        // writable floats are touched; the caller promises AVX-512F.
        unsafe { _mm512_mask_storeu_ps(s.as_mut_ptr(), first_lanes(s.len()), self.0) }
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        // SAFETY: the caller promises AVX-512F.
        Self(unsafe { _mm512_add_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        // SAFETY: the caller promises AVX-512F.
        Self(unsafe { _mm512_sub_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        // SAFETY: the caller promises AVX-512F.
        Self(unsafe { _mm512_mul_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn div(self, o: Self) -> Self {
        // SAFETY: the caller promises AVX-512F.
        Self(unsafe { _mm512_div_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        // SAFETY: the caller promises AVX-512F (which has FMA for 512-bit registers).
        Self(unsafe { _mm512_fmadd_ps(self.0, b.0, c.0) })
    }
    #[inline(always)]
    unsafe fn min_of(limit: Self, x: Self) -> Self {
        // SAFETY: the caller promises AVX-512F. vminps returns its second operand on NaN.
        Self(unsafe { _mm512_min_ps(limit.0, x.0) })
    }
    #[inline(always)]
    unsafe fn max_of(limit: Self, x: Self) -> Self {
        // SAFETY: the caller promises AVX-512F.
        Self(unsafe { _mm512_max_ps(limit.0, x.0) })
    }
    #[inline(always)]
    unsafe fn sqrt(self) -> Self {
        // SAFETY: the caller promises AVX-512F.
        Self(unsafe { _mm512_sqrt_ps(self.0) })
    }
    #[inline(always)]
    unsafe fn rsqrt(self) -> Self {
        // SAFETY: the caller promises AVX-512F.
        unsafe {
            // 14-bit estimate, then one Newton step: y·(1.5 - 0.5·x·y²).
            let y = _mm512_rsqrt14_ps(self.0);
            let half_x = _mm512_mul_ps(self.0, _mm512_set1_ps(0.5));
            let t = _mm512_fnmadd_ps(half_x, _mm512_mul_ps(y, y), _mm512_set1_ps(1.5));
            Self(_mm512_mul_ps(y, t))
        }
    }
    #[inline(always)]
    unsafe fn round(self) -> Self {
        // SAFETY: the caller promises AVX-512F.
        Self(unsafe {
            _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(self.0)
        })
    }
    #[inline(always)]
    unsafe fn pow2i(self) -> Self {
        // SAFETY: the caller promises AVX-512F.
        unsafe {
            let n = _mm512_cvtps_epi32(self.0);
            let bits = _mm512_slli_epi32::<23>(_mm512_add_epi32(n, _mm512_set1_epi32(127)));
            Self(_mm512_castsi512_ps(bits))
        }
    }
    #[inline(always)]
    unsafe fn sum(self) -> f32 {
        // SAFETY: the caller promises AVX-512F (and so AVX).
        unsafe { Avx2(self.halves_added()).sum() }
    }
    #[inline(always)]
    unsafe fn sum4(v: [Self; 4]) -> [f32; 4] {
        let [a, b, c, d] = v;
        // SAFETY: the caller promises AVX-512F (and so AVX and FMA). No closures here: they
        // would be compiled without the caller's target features and not inlined.
        unsafe {
            Avx2::sum4([
                Avx2(a.halves_added()),
                Avx2(b.halves_added()),
                Avx2(c.halves_added()),
                Avx2(d.halves_added()),
            ])
        }
    }
    #[inline(always)]
    unsafe fn max_lane(self) -> f32 {
        // SAFETY: the caller promises AVX-512F (and so AVX).
        unsafe {
            let low = _mm512_castps512_ps256(self.0);
            let high = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(self.0)));
            Avx2(_mm256_max_ps(low, high)).max_lane()
        }
    }
}

impl Avx512 {
    /// The low and high 256-bit halves added lane-wise.
    ///
    /// # Safety
    /// The CPU supports AVX-512F.
    #[inline(always)]
    unsafe fn halves_added(self) -> __m256 {
        // SAFETY: the caller promises AVX-512F.
        unsafe {
            let low = _mm512_castps512_ps256(self.0);
            let high = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(self.0)));
            _mm256_add_ps(low, high)
        }
    }
}

kernels_for!(sse2, Sse2, "sse2", "sse2");
kernels_for!(avx2, Avx2, "avx2,fma", "avx2+fma");
kernels_for!(avx512, Avx512, "avx512f,avx2,fma", "avx512f");

/// The SSE2 table: every x86_64 CPU can run it.
pub(crate) static SSE2: Kernels = sse2::KERNELS;
/// The AVX2+FMA table: hand out only after checking the CPU (see [`has_avx2_fma`]).
pub(crate) static AVX2: Kernels = avx2::KERNELS;
/// The AVX-512F table: hand out only after checking the CPU (see [`has_avx512f`]).
pub(crate) static AVX512: Kernels = avx512::KERNELS;

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

/// Whether this CPU runs [`AVX512`] (AVX-512F, with AVX2 and FMA): detected at run time with
/// `std`, decided at compile time from `target_feature` without.
#[inline]
pub(crate) fn has_avx512f() -> bool {
    #[cfg(feature = "std")]
    {
        std::is_x86_feature_detected!("avx512f") && has_avx2_fma()
    }
    #[cfg(not(feature = "std"))]
    {
        cfg!(target_feature = "avx512f") && has_avx2_fma()
    }
}
