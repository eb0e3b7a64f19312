//! `micrornn eval MODEL TEST.ts` for a series classifier: accuracy, mean cross-entropy,
//! per-class precision and recall, the confusion matrix (as text, JSON, or an SVG picture).

use crate::confusion::Confusion;
use crate::series::{
    self, QuantizedSeries, SERIES_CLASSES, SERIES_INPUTS, SeriesModel, SeriesPredict,
    dispatch_quantized_series, dispatch_series,
};
use crate::{EvalArgs, Fail, show};
use micrornn::format::Header;
use micrornn::host::atomic;
use micrornn::host::series_training::Prepared;
use micrornn::{Cell, Zeroable};

/// Runs `micrornn eval` on a series model.
pub fn run(args: &EvalArgs, bytes: &[u8], header: &Header) -> Result<(), Fail> {
    series::check_shape(&args.model, header)?;
    dispatch_series!(header.cell, header.hidden, eval_cell(args, bytes))
}

fn eval_cell<C, const H: usize>(args: &EvalArgs, bytes: &[u8]) -> Result<(), Fail>
where
    C: Cell<SERIES_INPUTS, H, SERIES_CLASSES> + SeriesPredict + Zeroable,
{
    eval_model(args, &series::decode::<C, H>(&args.model, bytes)?)
}

/// Runs `micrornn eval` on a quantized series model (a `.q8` file).
pub fn run_quantized(args: &EvalArgs, bytes: &[u8], header: &Header) -> Result<(), Fail> {
    series::check_shape(&args.model, header)?;
    dispatch_quantized_series!(header, eval_quantized(args, bytes))
}

fn eval_quantized<Q: QuantizedSeries<H>, const H: usize>(
    args: &EvalArgs,
    bytes: &[u8],
) -> Result<(), Fail> {
    eval_model(args, &series::decode_quantized::<Q, H>(&args.model, bytes)?)
}

fn eval_model<C: SeriesPredict>(args: &EvalArgs, model: &SeriesModel<C>) -> Result<(), Fail> {
    let set = model.read_set(&args.file)?;
    let data = Prepared::new(&set, &model.normalization);
    let mut confusion = Confusion::new(&model.class_names);
    let mut total_loss = 0.0f64;
    for (vectors, &label) in data.vectors.iter().zip(&data.labels) {
        let prediction = model
            .model
            .predict(vectors, model.classes, model.readout)
            .map_err(|e| Fail::new(format!("{}: {e}", show(&args.file))))?;
        // Cross-entropy from the probability, floored where it underflows to 0.
        let p = prediction.probs.get(label).copied().unwrap_or(0.0);
        total_loss -= f64::from(p.max(f32::MIN_POSITIVE)).ln();
        confusion.add(label, prediction.class);
    }
    let count = confusion.total();
    let correct: usize = (0..model.classes).map(|c| confusion.counts[c][c]).sum();
    let accuracy = correct as f64 / count.max(1) as f64;
    let loss = total_loss / count.max(1) as f64;
    if let Some(svg) = &args.svg {
        let title = format!(
            "{} on {}: accuracy {accuracy:.4} ({correct}/{count})",
            show(&args.model),
            show(&args.file)
        );
        atomic::write(svg, confusion.svg(&title).as_bytes())
            .map_err(|e| Fail::new(format!("--svg {}: {e}", show(svg))))?;
    }
    if args.json {
        let precision: Vec<Option<f64>> =
            (0..model.classes).map(|c| confusion.precision(c)).collect();
        let recall: Vec<Option<f64>> = (0..model.classes).map(|c| confusion.recall(c)).collect();
        println!(
            "{}",
            serde_json::json!({
                "series": count,
                "correct": correct,
                "accuracy": accuracy,
                "loss": loss,
                "classes": model.class_names,
                "precision": precision,
                "recall": recall,
                "confusion": confusion.counts,
            })
        );
    } else {
        println!(
            "{}: accuracy {accuracy:.4} ({correct}/{count}), mean cross-entropy {loss:.4} nats",
            show(&args.file)
        );
        print!("{}", confusion.table());
        if let Some(svg) = &args.svg {
            println!("confusion matrix picture: {}", show(svg));
        }
    }
    Ok(())
}
