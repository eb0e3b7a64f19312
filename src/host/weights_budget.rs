//! How much a weights import (`super::weights`) may read: the largest tensor and all tensors of an
//! RNN of given sizes, derived from the roles the importer looks for, so a file that declares
//! more is refused from its header (see `super::bounded`). The recurrent tensors are counted at
//! a GRU's size (three gates), the largest cell import reads.

use super::bounded::Budget;

/// Bytes of a weights file besides its tensors that the readers accept: the safetensors JSON
/// header (names, shapes, and a `__metadata__` that may hold the vocabulary, the initial state
/// and the training settings) or an `.npz`'s `.npy` headers.
pub const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Gate blocks of the largest cell import reads: a GRU's r, z, n (an Elman RNN has one, an
/// LSTM's four are refused).
const MAX_GATES: u64 = 3;

/// What importing the weights of a model of at most `inputs`, `hidden`, `outputs` and an
/// embedding at most `embedding_width` wide may read: the largest tensor of those roles (module
/// docs; the recurrent layer's at a GRU's three gate blocks) is the largest item; all tensors
/// of all roles, twice over (room for as many other entries of a state dict), plus
/// [`MAX_HEADER_BYTES`], the total.
pub const fn budget_for(inputs: u64, hidden: u64, outputs: u64, embedding_width: u64) -> Budget {
    let widest_input = if inputs > embedding_width {
        inputs
    } else {
        embedding_width
    };
    let gated = hidden.saturating_mul(MAX_GATES);
    let roles = [
        gated.saturating_mul(widest_input),     // weight_ih_l0 / kernel
        gated.saturating_mul(hidden),           // weight_hh_l0 / recurrent_kernel
        gated,                                  // bias_ih_l0 / bias (a Keras GRU's: both rows)
        gated,                                  // bias_hh_l0
        inputs.saturating_mul(embedding_width), // embedding
        outputs.saturating_mul(hidden),         // linear.weight / dense kernel
        outputs,                                // linear.bias / dense bias
    ];
    let (mut largest, mut sum, mut i) = (0u64, 0u64, 0);
    while i < roles.len() {
        if roles[i] > largest {
            largest = roles[i];
        }
        sum = sum.saturating_add(roles[i]);
        i += 1;
    }
    Budget::new(
        largest.saturating_mul(4),
        sum.saturating_mul(8).saturating_add(MAX_HEADER_BYTES),
    )
}

/// The budget of [`super::weights::import`]: a model of 4096 hidden units, 4096 inputs and
/// outputs and a 4096 wide embedding (192 MiB for a GRU's input or recurrent weights), far past
/// anything micrornn runs; callers that know their sizes pass a tighter one to
/// [`super::weights::import_within`].
pub const DEFAULT_BUDGET: Budget = budget_for(4096, 4096, 4096, 4096);
