//! Picks the memory map and the model/training sizes of the firmware.
//!
//! - `FW_MEMORY` = `mps2` (MPS2 boards, the default on ARMv7-M) or `microbit` (16 KB RAM, the
//!   default on ARMv6-M). `mps2` also runs ARMv6-M code (on `mps2-an385`), which the footprint
//!   script uses to count M0 instructions for models larger than 16 KB of RAM.
//! - `FW_TEXT` = `poem` (the whole verse, the default on ARMv7E-M) or `line` (its first line, the
//!   default on ARMv6-M, where 16 KB of RAM limit the model to H = 16).
//! - `FW_HIDDEN`, `FW_SEQ_LEN`, `FW_ITERATIONS`: override the sizes of the `train` example
//!   (defaults: 32 / 25 / 1000 on the M4F, 16 / 10 / 1000 on the M0). With `FW_ITERATIONS` set,
//!   the example only measures: it does not require the text to be reproduced.
//! - `FW_MODE` = `train` (default), `infer` or `baseline`: what the `footprint` firmware links
//!   (training and inference, inference only, or neither), so that the core's share of flash is
//!   the difference to `baseline`. Its hidden size is `FW_HIDDEN` (default 32).
//! - `FW_INPUT` = `token` (default) or `dense`: what `footprint_gru` and `footprint_q8` feed
//!   their model (a token id, a row lookup, or a dense sample of 32 channels, a full input
//!   product).
//! - `FW_CELL` = `elman` (default) or `gru`: the cell the `train` example trains (`Rnn` or
//!   `Gru`, through the same `Trainer`).
//! - `FW_WEIGHTS` = `int8` (default) or `f32`: the model `footprint_gru` links (`QGru` or `Gru`).
use std::{env, fs, path::PathBuf};

fn main() {
    let target = env::var("TARGET").unwrap_or_default();
    let armv6m = target.starts_with("thumbv6m");
    let memory = env::var("FW_MEMORY")
        .unwrap_or_else(|_| if armv6m { "microbit" } else { "mps2" }.to_string());
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    fs::copy(format!("mem/{memory}.x"), out.join("memory.x")).expect("mem/<FW_MEMORY>.x exists");
    println!("cargo:rustc-link-search={}", out.display());

    let (hidden, seq_len, iterations) = if armv6m {
        (16, 10, 1000)
    } else {
        (32, 25, 1000)
    };
    let text = env::var("FW_TEXT").unwrap_or_else(|_| if armv6m { "line" } else { "poem" }.into());
    assert!(
        text == "poem" || text == "line",
        "FW_TEXT must be poem or line"
    );
    let get = |name: &str, default: usize| -> usize {
        env::var(name)
            .ok()
            .map_or(default, |v| v.parse().expect("a number"))
    };
    let check = env::var("FW_ITERATIONS").is_err();
    let mode = env::var("FW_MODE").unwrap_or_else(|_| "train".into());
    assert!(
        ["train", "infer", "baseline"].contains(&mode.as_str()),
        "FW_MODE must be train, infer or baseline"
    );
    let weights = env::var("FW_WEIGHTS").unwrap_or_else(|_| "int8".into());
    assert!(
        weights == "int8" || weights == "f32",
        "FW_WEIGHTS must be int8 or f32"
    );
    let cell = match env::var("FW_CELL").as_deref() {
        Err(_) | Ok("elman") => "Rnn",
        Ok("gru") => "Gru",
        Ok(_) => panic!("FW_CELL must be elman or gru"),
    };
    let input = env::var("FW_INPUT").unwrap_or_else(|_| "token".into());
    assert!(
        input == "token" || input == "dense",
        "FW_INPUT must be token or dense"
    );
    let config = format!(
        "/// Hidden units.\npub const HIDDEN: usize = {};\n\
         /// Tokens per training chunk (BPTT length).\npub const SEQ_LEN: usize = {};\n\
         /// Training chunks.\npub const ITERATIONS: usize = {};\n\
         /// Whether the run must reproduce the text (false when `FW_ITERATIONS` is overridden for a measurement).\n\
         pub const CHECK: bool = {};\n\
         /// Train on the first line of the poem only (`FW_TEXT=line`).\npub const FIRST_LINE_ONLY: bool = {};\n\
         /// `footprint`: link inference (`FW_MODE` train or infer).\npub const WITH_INFERENCE: bool = {};\n\
         /// `footprint`: link training (`FW_MODE=train`).\npub const WITH_TRAINING: bool = {};\n\
         /// `footprint_gru`: the int8 `QGru` (`FW_WEIGHTS=int8`) rather than the f32 `Gru`.\npub const INT8_WEIGHTS: bool = {};\n\
         /// `footprint_gru`, `footprint_q8`: dense samples rather than token ids (`FW_INPUT=dense`).\n\
         pub const DENSE_INPUT: bool = {};\n\
         /// `train`: the cell trained (`FW_CELL`).\n\
         pub type CellOf<const I: usize, const H: usize, const O: usize> = micrornn::{}<I, H, O>;\n",
        get("FW_HIDDEN", hidden),
        get("FW_SEQ_LEN", seq_len),
        get("FW_ITERATIONS", iterations),
        check,
        text == "line",
        mode != "baseline",
        mode == "train",
        weights == "int8",
        input == "dense",
        cell
    );
    fs::write(out.join("config.rs"), config).expect("OUT_DIR is writable");

    println!("cargo:rerun-if-changed=mem");
    println!("cargo:rerun-if-changed=build.rs");
    for var in [
        "FW_MEMORY",
        "FW_MODE",
        "FW_TEXT",
        "FW_HIDDEN",
        "FW_SEQ_LEN",
        "FW_ITERATIONS",
        "FW_WEIGHTS",
        "FW_CELL",
        "FW_INPUT",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
}
