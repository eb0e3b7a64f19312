//! Sets `cfg(micrornn_dsp)` on ARMv7E-M targets (Cortex-M4/M7: `thumbv7em-*`), whose DSP
//! extension (`SMLAD`, `SXTB16`) the integer kernels use. Stable Rust has no `target_feature`
//! cfg for it, and every ARMv7E-M core has the extension.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(micrornn_dsp)");
    println!("cargo::rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumbv7em-") {
        println!("cargo::rustc-cfg=micrornn_dsp");
    }
}
