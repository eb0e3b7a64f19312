//! The byte sizes the documentation promises (`Rnn::SIZE` table in `src/model.rs`, the `Tape`
//! example in `src/bptt.rs`) are the real ones.

use micrornn::{Rnn, Tape};

#[test]
fn model_sizes_match_the_documented_table() {
    assert_eq!(Rnn::<16, 16, 16>::SIZE, 3_200);
    assert_eq!(Rnn::<32, 32, 32>::SIZE, 12_544);
    #[cfg(target_pointer_width = "64")]
    assert_eq!(Rnn::<65, 128, 65>::SIZE, 132_928);
    #[cfg(not(target_pointer_width = "64"))]
    assert_eq!(Rnn::<65, 128, 65>::SIZE, 132_868);
    assert_eq!(Rnn::<256, 512, 256>::SIZE, 2_100_224);
    // SIZE = 4 · PARAMETERS, rounded up to the 64-byte alignment on 64-bit targets: no hidden
    // fields, no padding inside.
    let padded = |bytes: usize| {
        if cfg!(target_pointer_width = "64") {
            bytes.next_multiple_of(64)
        } else {
            bytes
        }
    };
    assert_eq!(
        Rnn::<65, 128, 65>::SIZE,
        padded(4 * Rnn::<65, 128, 65>::PARAMETERS)
    );
    assert_eq!(
        Rnn::<3, 5, 7>::SIZE,
        padded(4 * (3 * 5 + 5 * 5 + 5 + 7 * 5 + 7))
    );
    // Every weight row starts a cache line when H is a multiple of 16.
    #[cfg(target_pointer_width = "64")]
    {
        let model = Rnn::<65, 128, 65>::boxed_zero();
        for row in model.w_xh.iter().chain(&model.w_hh).chain(&model.w_hy) {
            assert_eq!(row.as_ptr().align_offset(64), 0);
        }
    }
}

#[test]
fn tape_size_matches_the_documented_formula() {
    // 4·(T·(2·H + O) + 2·H) plus three `usize` counters, rounded up to the struct's alignment
    // (64 bytes on 64-bit targets): the starting state and the readout's state are the 2·H.
    let counters = 3 * core::mem::size_of::<usize>();
    let formula = |t: usize, h: usize, o: usize| 4 * (t * (2 * h + o) + 2 * h) + counters;
    let align = core::mem::align_of::<Tape<1, 1, 1>>();
    let close = |size: usize, f: usize| (f..f + align).contains(&size);
    assert!(close(Tape::<25, 100, 65>::SIZE, formula(25, 100, 65)));
    assert!(close(Tape::<7, 3, 5>::SIZE, formula(7, 3, 5)));
    assert!(close(Tape::<1, 1, 1>::SIZE, formula(1, 1, 1)));
    #[cfg(target_pointer_width = "64")]
    assert_eq!(Tape::<25, 100, 65>::SIZE, 27_328);
}
