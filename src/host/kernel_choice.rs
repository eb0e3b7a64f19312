//! The kernel table a program runs on, chosen by the environment variable `MICRORNN_KERNELS`
//! for comparing tables; unset, the library's default (the fastest table the CPU runs, see
//! [`crate::kernels::active`]).
//!
//! The binary, `examples/throughput` and the benches call [`select_from_env`] first thing, so
//! `MICRORNN_KERNELS=avx2+fma cargo bench --bench model` measures the AVX2+FMA table on a CPU
//! that has AVX-512.

use crate::kernels::{self, Kernels};
use std::fmt;

/// The environment variable that names the kernel table: a [`Kernels::name`] (`scalar`,
/// `portable`, `sse2`, `avx2+fma`, `avx512f`, `neon`).
pub const VARIABLE: &str = "MICRORNN_KERNELS";

/// `MICRORNN_KERNELS` names no table this build and CPU can run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKernels {
    /// The value of the variable (lossily decoded if it was not UTF-8).
    pub requested: String,
}

impl fmt::Display for UnknownKernels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let available: Vec<&str> = kernels::variants().map(|k| k.name).collect();
        write!(
            f,
            "{VARIABLE}={}: this build and CPU have no such kernel table (available: {})",
            self.requested,
            available.join(", ")
        )
    }
}

impl std::error::Error for UnknownKernels {}

/// Makes the table named by `MICRORNN_KERNELS` active (see [`kernels::select`]) if the variable
/// is set, and returns the active table either way.
///
/// # Errors
/// [`UnknownKernels`] if the variable names no table this build and CPU run (the active table
/// is then unchanged).
///
/// # Examples
/// ```
/// // Unset here, so the library's default stays active.
/// let table = micrornn::host::kernel_choice::select_from_env()?;
/// assert_eq!(table.name, micrornn::kernels::active().name);
/// # Ok::<(), micrornn::host::kernel_choice::UnknownKernels>(())
/// ```
pub fn select_from_env() -> Result<&'static Kernels, UnknownKernels> {
    match std::env::var_os(VARIABLE) {
        None => Ok(kernels::active()),
        Some(value) => {
            let requested = value.to_string_lossy().into_owned();
            match value.to_str().map(kernels::select) {
                Some(Ok(table)) => Ok(table),
                _ => Err(UnknownKernels { requested }),
            }
        }
    }
}
