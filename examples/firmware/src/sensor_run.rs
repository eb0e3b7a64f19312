//! What both sensor firmwares run (`bin/sensor.rs`, f32, and `bin/sensor_q8.rs`, int8): every
//! recorded window fed one sample at a time through a model of the crate's [`Infer`] trait, one
//! line printed per window, and the verdict: the lines must be the host's.

use crate::sensor_stream::{Line, Samples};
use cortex_m_semihosting::hprintln;
use micrornn::format::{Header, TextList};
use micrornn::{Error, Infer, Input, kernels};

/// Input channels: 3 accelerometer and 3 gyroscope axes.
pub const CHANNELS: usize = 6;
/// Hidden units.
pub const HIDDEN: usize = 32;
/// Outputs: the 4 activities.
pub const CLASSES: usize = 4;

/// The model, how a sample reaches it, and what it must print.
pub struct Deployed<'a, M: Infer<CHANNELS>> {
    /// The model.
    pub model: &'a M,
    /// The state each window starts from (the file's).
    pub start: M::Hidden,
    /// What a raw sample (`integer × scale`) goes through before the step.
    pub prepare: fn(&mut [f32; CHANNELS]),
    /// The class names of the model file.
    pub class_names: TextList<'a>,
    /// Live classes.
    pub classes: usize,
    /// The lines the host predicts.
    pub expected: &'a str,
}

/// Prints what was decoded: the cell `cell` of `header`'s shape, from `bytes` of flash.
pub fn announce(cell: &str, header: &Header, bytes: usize) {
    hprintln!(
        "decoded a {}<{}, {}, {}> ({} classes) from {} bytes of flash",
        cell,
        header.inputs,
        header.hidden,
        header.outputs,
        header.classes,
        bytes
    );
}

/// Classifies every window of the samples file `samples`, printing one line per window;
/// `Ok(true)` if the lines are the host's.
///
/// # Errors
/// A step's error.
pub fn classify_windows<M: Infer<CHANNELS>>(
    deployed: &Deployed<'_, M>,
    samples: &[u8],
) -> Result<bool, Error> {
    let samples = match Samples::parse(samples) {
        Ok(samples) => samples,
        Err(reason) => {
            hprintln!("{}", reason);
            return Ok(false);
        }
    };
    hprintln!(
        "{} series of {} samples of {} channels, {} byte(s) per value",
        samples.series,
        samples.steps,
        samples.channels,
        samples.width
    );
    let model = deployed.model;
    let classes = deployed.classes.min(CLASSES);
    let softmax = kernels::active().softmax;
    let mut expected = deployed.expected.lines();
    let (mut matched, mut correct) = (true, 0);
    for s in 0..samples.series {
        window_start();
        let mut hidden = deployed.start;
        for t in 0..samples.steps {
            sample_start();
            // As an IMU delivers it: integers, scaled, then prepared for the model.
            let Some(mut sample) = samples.sample::<CHANNELS>(s, t) else {
                return Ok(false);
            };
            (deployed.prepare)(&mut sample);
            let stepped = model.step(Input::Dense(&sample), &mut hidden);
            sample_stop();
            stepped?;
        }
        let mut logits = M::ZERO_LOGITS;
        model.logits(&hidden, &mut logits);
        let class = model.argmax(&logits, classes);
        let mut buffer = M::ZERO_REAL_LOGITS;
        let real = model.real_logits(&logits, &mut buffer);
        let mut probs = [0.0f32; CLASSES];
        softmax(real.get(..classes).unwrap_or(real), &mut probs[..classes]);
        window_stop();

        let recorded = samples.label(s).unwrap_or(usize::MAX);
        correct += usize::from(class == recorded);
        let name = |c: usize| deployed.class_names.get(c).unwrap_or("?");
        let probability = probs.get(class).copied().unwrap_or(0.0);
        let line = Line::result(s + 1, name(class), probability, name(recorded));
        hprintln!("{}", line.as_str());
        matched &= expected.next() == Some(line.as_str());
    }
    matched &= expected.next().is_none();
    hprintln!("accuracy: {}/{}", correct, samples.series);
    hprintln!(
        "{}",
        if matched {
            "OK: the same lines as the host"
        } else {
            "FAIL: the lines differ from the host's"
        }
    );
    Ok(matched)
}

// Markers for tools/qemu-insncount.sh: one sample (read, scale, prepare, step) is
// `sample_start`..`sample_stop`, one window (100 samples, logits, softmax, argmax) is
// `window_start`..`window_stop`. The bodies differ, or LLVM merges the functions.

/// Start of one sample.
#[unsafe(no_mangle)]
#[inline(never)]
extern "C" fn sample_start() {
    // SAFETY: a `nop` touches no memory, register or flag.
    unsafe { core::arch::asm!("nop", options(nomem, nostack, preserves_flags)) };
}

/// End of one sample.
#[unsafe(no_mangle)]
#[inline(never)]
extern "C" fn sample_stop() {
    // SAFETY: as above.
    unsafe { core::arch::asm!("nop", "nop", options(nomem, nostack, preserves_flags)) };
}

/// Start of one window.
#[unsafe(no_mangle)]
#[inline(never)]
extern "C" fn window_start() {
    // SAFETY: as above.
    unsafe {
        core::arch::asm!(
            "nop",
            "nop",
            "nop",
            options(nomem, nostack, preserves_flags)
        )
    };
}

/// End of one window.
#[unsafe(no_mangle)]
#[inline(never)]
extern "C" fn window_stop() {
    // SAFETY: as above.
    unsafe {
        core::arch::asm!(
            "nop",
            "nop",
            "nop",
            "nop",
            options(nomem, nostack, preserves_flags)
        )
    };
}
