//! The `.npz` weights reader (`weights::import_within` on a zip of `.npy` arrays): seeds are the
//! Keras fixture and bombs (entries of deflated zeros whose `.npy` header declares a huge shape,
//! more data than the header declares, a huge header length). Inputs that do not start like a
//! zip are skipped (the `safetensors_import` target reads those). Checks in `weights_check.rs`.
#![no_main]

#[path = "weights_check.rs"]
mod weights_check;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.starts_with(b"PK\x03\x04") {
        weights_check::check(data);
    }
});
