//! The safetensors weights reader (`weights::import_within` on a safetensors file): seeds are the
//! PyTorch and Keras fixtures and files whose header declares a huge tensor or a huge header.
//! Inputs that start like a zip are skipped (the `npz_import` target reads those). Checks in
//! `weights_check.rs`.
#![no_main]

#[path = "weights_check.rs"]
mod weights_check;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if !data.starts_with(b"PK\x03\x04") {
        weights_check::check(data);
    }
});
