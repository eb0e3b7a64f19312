//! `micrornn classify MODEL "TEXT"` and `micrornn eval MODEL FILE.tsv` for a classifier file
//! (task classifier, word vocabulary, class names: everything comes from the file).

use crate::model_load::{check_shape, load};
use crate::{ClassifyArgs, EvalArgs, Fail, dispatch, show};
use micrornn::classify::{self, Prediction};
use micrornn::format::{self, Decoded, Header, Task};
use micrornn::{CharVocab, Rnn, Sequence};
use std::path::Path;

/// Refuses a file that is not a classifier.
fn check_classifier(path: &Path, header: &Header) -> Result<(), Fail> {
    if header.task != Task::Classifier {
        return Err(Fail::new(format!(
            "model {} is a language model, not a classifier: use `micrornn sample`",
            show(path)
        )));
    }
    Ok(())
}

/// Runs `micrornn classify`.
pub fn run(args: &ClassifyArgs) -> Result<(), Fail> {
    if let Some(quantized) = crate::quantize::classify_if_quantized(args) {
        return quantized;
    }
    let (bytes, header) = load(&args.model)?;
    check_classifier(&args.model, &header)?;
    if crate::series::is_series_model(&header) {
        return crate::classify_series::run(args, &bytes, &header);
    }
    check_shape(&args.model, &header)?;
    dispatch!(header.hidden, header.inputs, classify_text(args, &bytes))
}

/// Decodes a classifier onto the heap; its words and class names stay borrowed from `bytes`.
fn decode<'b, const V: usize, const H: usize>(
    path: &Path,
    bytes: &'b [u8],
) -> Result<(Box<Rnn<V, H, V>>, Decoded<'b>), Fail> {
    let mut model = Rnn::<V, H, V>::boxed_zero();
    let mut chars = CharVocab::<0>::new();
    let mut hidden = [0.0f32; H];
    let decoded = format::decode_contents(bytes, &mut *model, &mut chars, &mut hidden)
        .map_err(|e| Fail::new(format!("model {}: {e}", show(path))))?;
    Ok((model, decoded))
}

/// The class of one text, from the zero state.
fn predict<const V: usize, const H: usize>(
    model: &Rnn<V, H, V>,
    decoded: &Decoded<'_>,
    text: &str,
) -> Result<Prediction<V>, String> {
    let mut ids = vec![0usize; text.split_whitespace().count()];
    decoded
        .words
        .encode_into(text, &mut ids)
        .map_err(|e| match e {
            micrornn::Error::UnknownWord { index } => format!(
                "word {:?} is not in the model's vocabulary ({} words)",
                text.split_whitespace().nth(index).unwrap_or_default(),
                decoded.words.len()
            ),
            other => other.to_string(),
        })?;
    if ids.is_empty() {
        return Err("the text has no words".to_string());
    }
    classify::predict(
        model,
        Sequence::Tokens(&ids),
        decoded.header.classes,
        micrornn::Readout::Last,
    )
    .map_err(|e| e.to_string())
}

fn classify_text<const V: usize, const H: usize>(
    args: &ClassifyArgs,
    bytes: &[u8],
) -> Result<(), Fail> {
    let (model, decoded) = decode::<V, H>(&args.model, bytes)?;
    let prediction =
        predict(&model, &decoded, &args.text).map_err(|e| Fail::new(format!("text: {e}")))?;
    let name = decoded.class_names.get(prediction.class).unwrap_or("?");
    println!("{name} {:.4}", prediction.probs[prediction.class]);
    Ok(())
}

/// `micrornn eval` on a classifier: accuracy and mean cross-entropy over `text<TAB>label`
/// lines (a header line `text<TAB>label` is skipped; labels are class names or ids).
pub fn eval(args: &EvalArgs, bytes: &[u8], header: &Header) -> Result<(), Fail> {
    check_shape(&args.model, header)?;
    let tsv = std::fs::read_to_string(&args.file)
        .map_err(|e| Fail::new(format!("{}: {e}", show(&args.file))))?;
    dispatch!(header.hidden, header.inputs, eval_tsv(args, bytes, &tsv))
}

fn eval_tsv<const V: usize, const H: usize>(
    args: &EvalArgs,
    bytes: &[u8],
    tsv: &str,
) -> Result<(), Fail> {
    let (model, decoded) = decode::<V, H>(&args.model, bytes)?;
    let (mut correct, mut count, mut loss) = (0usize, 0usize, 0.0f64);
    for (number, line) in tsv.lines().enumerate() {
        let at = || format!("{}:{}", show(&args.file), number + 1);
        let Some((text, label)) = line.rsplit_once('\t') else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(Fail::new(format!("{}: expected `text<TAB>label`", at())));
        };
        let label = label.trim();
        let class = match decoded.class_names.id(label) {
            Some(class) => class,
            None => match label.parse::<usize>() {
                Ok(class) if class < decoded.header.classes => class,
                _ if number == 0 => continue, // the header line
                _ => {
                    return Err(Fail::new(format!(
                        "{}: label {label:?} is not a class of the model ({})",
                        at(),
                        decoded.class_names.iter().collect::<Vec<_>>().join(", ")
                    )));
                }
            },
        };
        let prediction =
            predict(&model, &decoded, text).map_err(|e| Fail::new(format!("{}: {e}", at())))?;
        correct += usize::from(prediction.class == class);
        count += 1;
        loss -= f64::from(prediction.probs[class].max(f32::MIN_POSITIVE)).ln();
    }
    if count == 0 {
        return Err(Fail::new(format!(
            "{}: no labelled lines",
            show(&args.file)
        )));
    }
    let accuracy = correct as f64 / count as f64;
    if args.json {
        println!(
            "{}",
            serde_json::json!({"examples": count, "correct": correct, "accuracy": accuracy, "loss": loss / count as f64})
        );
    } else {
        println!(
            "{}: accuracy {accuracy:.4} ({correct}/{count}), mean cross-entropy {:.4} nats",
            show(&args.file),
            loss / count as f64
        );
    }
    Ok(())
}
