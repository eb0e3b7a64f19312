//! What the weights targets check of `weights::import_within` on arbitrary bytes, within the
//! `micrornn` binary's budget (its largest compiled shape, an embedding up to 1024 wide):
//! no panic, no allocation past libFuzzer's `-rss_limit_mb` (scripts/fuzz.sh passes 512: a bomb
//! that made the reader hold what it declares would stop the run), and weights that import have
//! tensors of the sizes their shape says, within the budget.

use micrornn::host::weights;

/// The budget of `micrornn import`.
const BUDGET: micrornn::host::bounded::Budget = weights::budget_for(256, 512, 256, 1024);

/// Imports `bytes` and checks what comes out.
pub fn check(bytes: &[u8]) {
    let Ok(w) = weights::import_within(bytes, BUDGET) else {
        return;
    };
    let (i, h, o) = (w.inputs, w.hidden, w.outputs);
    assert_eq!(w.w_xh.len(), i * h);
    assert_eq!(w.w_hh.len(), h * h);
    assert_eq!(w.b_h.len(), h);
    assert_eq!(w.w_hy.len(), o * h);
    assert_eq!(w.b_y.len(), o);
    let bytes_held = 4 * (w.w_xh.len() + w.w_hh.len() + w.b_h.len() + w.w_hy.len() + w.b_y.len());
    assert!(bytes_held as u64 <= BUDGET.total_bytes);
}
