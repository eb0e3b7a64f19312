//! Which kernel table is in use: the default for this build and CPU, or one chosen by name.
//!
//! The kernel layer reads no environment: a program that wants to compare tables chooses one
//! with [`select`] (the host layer's `MICRORNN_KERNELS` does).

#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
use super::aarch64;
#[cfg(target_arch = "x86_64")]
use super::x86;
use super::{Kernels, SCALAR, portable};

/// Every table this build contains: scalar, portable, then the SIMD tables slowest first.
#[cfg(target_arch = "x86_64")]
static TABLES: [&Kernels; 5] = [
    &SCALAR,
    &portable::KERNELS,
    &x86::SSE2,
    &x86::AVX2,
    &x86::AVX512,
];
/// Every table this build contains: scalar, portable, then the SIMD tables slowest first.
#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
static TABLES: [&Kernels; 3] = [&SCALAR, &portable::KERNELS, &aarch64::NEON];
/// Every table this build contains: scalar, portable, then the SIMD tables slowest first.
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon")
)))]
static TABLES: [&Kernels; 2] = [&SCALAR, &portable::KERNELS];

/// Whether this CPU has the instructions of `table` (one of [`TABLES`]).
fn runs(table: &Kernels) -> bool {
    #[cfg(target_arch = "x86_64")]
    match table.name {
        "avx2+fma" => return x86::has_avx2_fma(),
        "avx512f" => return x86::has_avx512f(),
        _ => {}
    }
    let _ = table;
    true
}

/// The table [`active`] returns unless [`select`] chose another (its documentation says which).
#[inline]
fn default_table() -> &'static Kernels {
    #[cfg(feature = "force-scalar")]
    {
        &SCALAR
    }
    #[cfg(all(not(feature = "force-scalar"), target_arch = "x86_64"))]
    {
        if x86::has_avx512f() {
            &x86::AVX512
        } else if x86::has_avx2_fma() {
            &x86::AVX2
        } else {
            &x86::SSE2
        }
    }
    #[cfg(all(
        not(feature = "force-scalar"),
        target_arch = "aarch64",
        target_feature = "neon"
    ))]
    {
        &aarch64::NEON
    }
    #[cfg(all(
        not(feature = "force-scalar"),
        not(target_arch = "x86_64"),
        not(all(target_arch = "aarch64", target_feature = "neon"))
    ))]
    {
        &portable::KERNELS
    }
}

/// With `std`: 0 while nothing is decided, else 1 + the index in [`TABLES`] of the active table.
#[cfg(feature = "std")]
static CHOICE: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(0);

/// The kernel table in use: the one [`select`] chose last, else the default for this build and
/// CPU — [`SCALAR`] with the `force-scalar` feature; otherwise on x86_64 AVX-512F, else
/// AVX2+FMA, else SSE2, whichever the CPU has first (detected once at run time with `std`, from
/// `target_feature` without); NEON on aarch64; [`portable::KERNELS`] (scalar with a rational
/// tanh) elsewhere.
///
/// With `std` this is one relaxed atomic load per call; without, a constant.
#[inline]
pub fn active() -> &'static Kernels {
    #[cfg(feature = "std")]
    {
        use core::sync::atomic::Ordering;
        let choice = CHOICE.load(Ordering::Relaxed);
        if let Some(&table) = usize::from(choice)
            .checked_sub(1)
            .and_then(|i| TABLES.get(i))
        {
            return table;
        }
        let table = default_table();
        if let Some(i) = TABLES.iter().position(|t| core::ptr::eq(*t, table)) {
            // Only if still undecided: a concurrent `select` wins.
            let _ = CHOICE.compare_exchange(0, i as u8 + 1, Ordering::Relaxed, Ordering::Relaxed);
        }
        table
    }
    #[cfg(not(feature = "std"))]
    {
        default_table()
    }
}

/// [`select`] was asked for a table this build does not contain or this CPU cannot run, or,
/// without `std`, for another table than the one chosen at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unavailable;

impl core::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("no such kernel table for this build and CPU")
    }
}

/// Makes the table named `name` (a [`Kernels::name`]: `"scalar"`, `"portable"`, `"sse2"`,
/// `"avx2+fma"`, `"avx512f"`, `"neon"`) the one [`active`] returns from now on, in every thread,
/// and returns it. For comparing tables: every table computes the same function to within the
/// tolerances stated in this module, but not bit for bit, so choose before training starts.
///
/// Without `std` the table is fixed at compile time: only its own name is accepted.
///
/// # Errors
/// [`Unavailable`] if `name` is not among [`variants`] (this build lacks the table or this CPU
/// its instructions), or, without `std`, is not the compile-time choice.
///
/// # Examples
/// ```
/// let scalar = micrornn::kernels::select("scalar")?;
/// assert_eq!(scalar.name, "scalar");
/// assert_eq!(micrornn::kernels::active().name, "scalar");
/// assert!(micrornn::kernels::select("no such table").is_err());
/// # Ok::<(), micrornn::kernels::Unavailable>(())
/// ```
pub fn select(name: &str) -> Result<&'static Kernels, Unavailable> {
    #[cfg(feature = "std")]
    {
        let i = TABLES
            .iter()
            .position(|t| t.name == name && runs(t))
            .ok_or(Unavailable)?;
        CHOICE.store(i as u8 + 1, core::sync::atomic::Ordering::Relaxed);
        TABLES.get(i).copied().ok_or(Unavailable)
    }
    #[cfg(not(feature = "std"))]
    {
        let table = default_table();
        if table.name == name {
            Ok(table)
        } else {
            Err(Unavailable)
        }
    }
}

/// Every kernel table this build contains and this CPU can run, scalar first.
///
/// Lists the SIMD tables even with `force-scalar` (so their tests still run); tables whose
/// instructions the CPU lacks are never listed.
pub fn variants() -> impl Iterator<Item = &'static Kernels> {
    TABLES.iter().copied().filter(|t| runs(t))
}

/// Names of every kernel table this build contains, including those this CPU cannot run (the
/// test harness reports those as skipped).
pub fn compiled_variants() -> &'static [&'static str] {
    #[cfg(target_arch = "x86_64")]
    {
        &["scalar", "portable", "sse2", "avx2+fma", "avx512f"]
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    {
        &["scalar", "portable", "neon"]
    }
    #[cfg(not(any(
        target_arch = "x86_64",
        all(target_arch = "aarch64", target_feature = "neon")
    )))]
    {
        &["scalar", "portable"]
    }
}
