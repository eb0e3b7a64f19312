//! Reading a model file for any command: its bytes within the size limit and its header (a
//! checkpoint given in its place named as one), and whether this binary compiles its shape.

use crate::{Fail, limits, show};
use micrornn::format::Header;
use micrornn::host::bounded::BoundedFile;
use micrornn::host::{checkpoint, model_file};
use std::path::Path;

/// Reads and checks a model file (at most [`limits::model_file`] bytes, its head first); returns
/// its bytes and header.
pub(crate) fn load(path: &Path) -> Result<(Vec<u8>, Header), Fail> {
    model_file::read(path, limits::model_file()).map_err(|e| {
        let is_checkpoint = BoundedFile::open(path, 0).is_ok_and(|mut file| {
            file.head(checkpoint::MAGIC.len())
                .is_ok_and(|head| head == checkpoint::MAGIC)
        });
        if is_checkpoint {
            Fail::new(format!(
                "{} is a training checkpoint, not a model: give the model file (train --out)",
                show(path)
            ))
        } else {
            Fail::new(format!("model {}: {e}", show(path)))
        }
    })
}

/// Checks that a model's shape is one this binary compiles: inputs = outputs, a known bucket.
pub(crate) fn check_shape(path: &Path, header: &Header) -> Result<(), Fail> {
    let (hidden_sizes, buckets) = crate::compiled_shapes(header.cell);
    if header.inputs != header.outputs
        || !buckets.contains(&header.inputs)
        || !hidden_sizes.contains(&header.hidden)
    {
        return Err(Fail::new(format!(
            "model {}: shape (inputs {}, hidden {}, outputs {}) is not compiled into this binary \
             for the {} cell (hidden {}; vocabulary buckets {})",
            show(path),
            header.inputs,
            header.hidden,
            header.outputs,
            header.cell.name(),
            crate::list(hidden_sizes),
            crate::list(buckets),
        )));
    }
    Ok(())
}
