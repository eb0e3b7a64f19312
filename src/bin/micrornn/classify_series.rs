//! `micrornn classify MODEL FILE.ts` for a series classifier: one line per series (its class and
//! probability), or with `--stream` the class probabilities after every sample, as a device that
//! receives one sample at a time sees them.

use crate::series::{
    self, QuantizedSeries, SERIES_CLASSES, SERIES_INPUTS, SeriesModel, SeriesPredict,
    dispatch_quantized_series, dispatch_series,
};
use crate::{ClassifyArgs, Fail, show};
use micrornn::format::Header;
use micrornn::host::series_training::Prepared;
use micrornn::{Cell, Zeroable};
use std::io::Write;
use std::path::Path;

/// Runs `micrornn classify` on a series model.
pub fn run(args: &ClassifyArgs, bytes: &[u8], header: &Header) -> Result<(), Fail> {
    series::check_shape(&args.model, header)?;
    dispatch_series!(header.cell, header.hidden, classify_cell(args, bytes))
}

fn classify_cell<C, const H: usize>(args: &ClassifyArgs, bytes: &[u8]) -> Result<(), Fail>
where
    C: Cell<SERIES_INPUTS, H, SERIES_CLASSES> + SeriesPredict + Zeroable,
{
    classify_model(args, &series::decode::<C, H>(&args.model, bytes)?)
}

/// Runs `micrornn classify` on a quantized series model (a `.q8` file).
pub fn run_quantized(args: &ClassifyArgs, bytes: &[u8], header: &Header) -> Result<(), Fail> {
    series::check_shape(&args.model, header)?;
    dispatch_quantized_series!(header, classify_quantized(args, bytes))
}

fn classify_quantized<Q: QuantizedSeries<H>, const H: usize>(
    args: &ClassifyArgs,
    bytes: &[u8],
) -> Result<(), Fail> {
    classify_model(args, &series::decode_quantized::<Q, H>(&args.model, bytes)?)
}

fn classify_model<C: SeriesPredict>(
    args: &ClassifyArgs,
    model: &SeriesModel<C>,
) -> Result<(), Fail> {
    let path = Path::new(&args.text);
    let set = model.read_set(path)?;
    let data = Prepared::new(&set, &model.normalization);
    let fail = |e: micrornn::Error| Fail::new(format!("{}: {e}", show(path)));
    let mut out = std::io::stdout().lock();
    let mut write =
        |line: String| writeln!(out, "{line}").map_err(|e| Fail::new(format!("stdout: {e}")));
    let names = &model.class_names[..model.classes.min(model.class_names.len())];
    if args.stream {
        write(format!("series\tstep\t{}\tpredicted", names.join("\t")))?;
    } else {
        write("series\tlabel\tpredicted\tprobability".to_string())?;
    }
    for (index, (vectors, &label)) in data.vectors.iter().zip(&data.labels).enumerate() {
        let number = index + 1;
        if args.stream {
            model
                .model
                .stream(vectors, model.classes, model.readout, &mut |step, probs| {
                    let class = micrornn::argmax(probs);
                    let probs: Vec<String> = probs.iter().map(|p| format!("{p:.4}")).collect();
                    write(format!(
                        "{number}\t{step}\t{}\t{}",
                        probs.join("\t"),
                        names.get(class).map_or("?", String::as_str)
                    ))
                })?;
        } else {
            let prediction = model
                .model
                .predict(vectors, model.classes, model.readout)
                .map_err(fail)?;
            write(format!(
                "{number}\t{}\t{}\t{:.4}",
                names.get(label).map_or("?", String::as_str),
                names.get(prediction.class).map_or("?", String::as_str),
                prediction.probs[prediction.class]
            ))?;
        }
    }
    Ok(())
}
