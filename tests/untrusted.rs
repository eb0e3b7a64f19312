//! Untrusted files cannot take the machine down (issue 20): every reader in `micrornn::host`
//! decides from a file's head whether it can be what it claims before reading or inflating the
//! rest, and never reads or inflates more than the largest thing it could hold.
//!
//! Deterministic: the readers' own count of bytes read ([`BoundedFile::bytes_read`]), and this
//! test process's peak resident memory (`VmHWM`; every test here is small, so a reader that
//! inflated a bomb would show).

#[path = "support/bomb.rs"]
mod bomb;

use micrornn::host::bounded::{BoundedFile, ReadError};
use micrornn::host::model_file::{self, ModelFileError};
use micrornn::host::{checkpoint, weights};
use micrornn::{CharVocab, Error, Rnn};

#[path = "common/cli_run.rs"]
mod cli_run;
use cli_run::scratch;

/// What `micrornn import` accepts: the binary's largest compiled shape (256 inputs and outputs,
/// 512 hidden) and an embedding up to 1024 wide.
const BINARY_BUDGET: micrornn::host::bounded::Budget = weights::budget_for(256, 512, 256, 1024);

/// Peak resident memory allowed to this whole test process: a few times what the files
/// hold, far below the 3 GiB a bomb's entry declares.
const PEAK_LIMIT: u64 = 64 << 20;

#[track_caller]
fn assert_peak_bounded() {
    let peak = bomb::peak_resident_bytes();
    println!("peak resident memory of the test process: {peak:?} bytes");
    match peak {
        Some(peak) => assert!(
            peak < PEAK_LIMIT,
            "peak resident memory {peak} bytes, more than {PEAK_LIMIT}"
        ),
        None => println!("skipped the peak-memory check: no /proc/self/status"),
    }
}

/// The bomb of the issue, with 256 MiB of real deflated zeros per entry (3.3 MB on disk; the
/// entries declare 3 GiB each): refused from the `.npy` header, having inflated a few bytes.
#[test]
fn the_npz_bomb_is_refused_from_its_header_with_bounded_memory() {
    let bytes = bomb::npz_bomb(256 << 20);
    assert!(bytes.len() < 4 << 20, "{} bytes on disk", bytes.len());
    for budget in [weights::DEFAULT_BUDGET, BINARY_BUDGET] {
        let error = weights::import_within(&bytes, budget).unwrap_err().0;
        assert!(
            error.contains("rnn.weight_hh_l0: shape [805306368] <f4")
                || error.contains("rnn.weight_ih_l0: shape [805306368] <f4"),
            "{error}"
        );
        assert!(
            error.contains(&format!("declares {} bytes", 4 * bomb::HUGE_ELEMENTS)),
            "{error}"
        );
        assert!(
            error.contains(&format!("has {}", budget.item_bytes)),
            "{error}"
        );
    }
    assert!(weights::import(&bytes).is_err());
    assert_peak_bounded();
}

/// The `.pt` zip of a small PyTorch model (the interop fixture) rebuilt with one tensor storage
/// that inflates to 256 MiB behind the real pickle: the storage is taken from the budget at the
/// size the pickle declares (3,968 bytes) and read through exactly that, so the file is refused
/// having inflated a few KB. The same rebuild without the bomb imports (the test can fail).
#[test]
fn a_pt_storage_inflating_past_its_declared_size_is_refused_with_bounded_memory() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/interop/torch_onehot.pt"
    );
    let fixture = std::fs::read(path).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&fixture[..])).unwrap();
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).unwrap();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        entries.push((entry.name().to_string(), data));
    }
    let rebuild = |bomb_zeros: u64| {
        let parts: Vec<(&str, Vec<u8>, u64)> = entries
            .iter()
            .map(
                |(name, data)| match name.ends_with("/data/0") && bomb_zeros > 0 {
                    true => (name.as_str(), Vec::new(), bomb_zeros),
                    false => (name.as_str(), data.clone(), 0),
                },
            )
            .collect();
        bomb::zip(&parts)
    };
    assert!(
        weights::import(&rebuild(0)).is_ok(),
        "the rebuilt .pt imports"
    );
    let bytes = rebuild(256 << 20);
    assert!(bytes.len() < 4 << 20, "{} bytes on disk", bytes.len());
    for budget in [weights::DEFAULT_BUDGET, BINARY_BUDGET] {
        let error = weights::import_within(&bytes, budget).unwrap_err().0;
        assert!(
            error.starts_with("PyTorch .pt file:") && error.contains("data/0"),
            "{error}"
        );
        assert!(error.contains("3968"), "{error}");
    }
    assert_peak_bounded();
}

/// Tensors each within the largest item but more than all a model can hold together: refused
/// when the sum passes the total, before the entry past it is inflated.
#[test]
fn npz_entries_past_the_total_are_refused_before_inflating() {
    let item = BINARY_BUDGET.item_bytes / 4;
    let header = bomb::npy_header("<f4", &format!("({item},)"));
    let entries: Vec<(String, Vec<u8>, u64)> = (0..8)
        .map(|i| (format!("t{i}.npy"), header.clone(), 4 * item))
        .collect();
    let entries: Vec<(&str, Vec<u8>, u64)> = entries
        .iter()
        .map(|(n, h, z)| (n.as_str(), h.clone(), *z))
        .collect();
    let bytes = bomb::zip(&entries);
    let error = weights::import_within(&bytes, BINARY_BUDGET).unwrap_err().0;
    assert!(error.contains("left of the"), "{error}");
    // An entry with more data than its header declares is refused, not cut short.
    let longer = bomb::zip(&[("t.npy", bomb::npy_header("<f4", "(4,)"), 1 << 20)]);
    let error = weights::import_within(&longer, BINARY_BUDGET)
        .unwrap_err()
        .0;
    assert!(error.contains("more than 16 bytes of data"), "{error}");
    assert_peak_bounded();
}

/// A safetensors tensor larger than any the binary can use is refused from its declared shape.
#[test]
fn a_safetensors_tensor_past_the_budget_is_refused() {
    // 8 MiB: past the 6 MiB of a GRU's input weights (3 × 512 hidden, 1024 wide).
    let data = vec![0u8; 8 << 20];
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2048, 1024], &data)
            .unwrap();
    let bytes = safetensors::serialize([("rnn.weight_ih_l0", view)], None).unwrap();
    let error = weights::import_within(&bytes, BINARY_BUDGET).unwrap_err().0;
    assert!(
        error.contains("tensor rnn.weight_ih_l0: shape [2048, 1024] F32 declares 8388608 bytes"),
        "{error}"
    );
    // A header that declares more data than the file has is refused by the safetensors reader.
    let mut lying = bytes.clone();
    lying.truncate(lying.len() - 1);
    assert!(weights::import_within(&lying, BINARY_BUDGET).is_err());
}

/// A 2 GiB file that is not a model (or checkpoint) is refused after reading its head only; one
/// that starts like a model (or checkpoint) is refused from its length, also after its head.
#[test]
fn a_2gib_file_is_refused_after_its_head_only() {
    let dir = scratch("sparse");
    let vocab = CharVocab::<32>::from_text("abc").unwrap();
    let model = model_file::to_bytes(&Rnn::<32, 32, 32>::ZERO, &vocab, 3).unwrap();
    let limit = model_file::max_len::<32, 32, 32>() as u64;
    let checkpoint_limit = checkpoint::max_len::<32, 32, 32>(8) as u64;
    let mut checkpoint_head = checkpoint::MAGIC.to_vec();
    checkpoint_head.extend_from_slice(&checkpoint::VERSION.to_le_bytes());
    let size = 2u64 << 30;

    let text = dir.join("text.bin");
    bomb::sparse_2gib(&text, b"just some text, then zeros");
    let mut file = BoundedFile::open(&text, limit).unwrap();
    let error = model_file::read_at_most(&mut file).unwrap_err();
    assert!(
        matches!(error, ModelFileError::Format(Error::NotAModel)),
        "{error}"
    );
    assert_eq!(file.bytes_read(), model_file::HEAD_LEN as u64);
    let mut file = BoundedFile::open(&text, checkpoint_limit).unwrap();
    let error = checkpoint::read_at_most(&mut file).unwrap_err();
    assert!(
        matches!(error, ReadError::Head(Error::NotAModel)),
        "{error}"
    );
    assert_eq!(file.bytes_read(), 8);

    let like_a_model = dir.join("model.bin");
    bomb::sparse_2gib(&like_a_model, &model[..model_file::HEAD_LEN]);
    let mut file = BoundedFile::open(&like_a_model, limit).unwrap();
    let error = model_file::read_at_most(&mut file).unwrap_err();
    assert!(
        matches!(error, ModelFileError::TooLarge { size: s, limit: l } if (s, l) == (size, limit)),
        "{error}"
    );
    assert_eq!(file.bytes_read(), model_file::HEAD_LEN as u64);
    assert!(
        model_file::read(&like_a_model, limit)
            .unwrap_err()
            .to_string()
            .contains(&format!("{size} bytes, longer than any model")),
    );

    let like_a_checkpoint = dir.join("checkpoint.bin");
    bomb::sparse_2gib(&like_a_checkpoint, &checkpoint_head);
    let mut file = BoundedFile::open(&like_a_checkpoint, checkpoint_limit).unwrap();
    let error = checkpoint::read_at_most(&mut file).unwrap_err();
    assert!(
        matches!(error, ReadError::TooLarge { size: s, .. } if s == size),
        "{error}"
    );
    assert_eq!(file.bytes_read(), 8);

    // A model within the limit is read whole, and decodes.
    let small = dir.join("small.mrnn");
    std::fs::write(&small, &model).unwrap();
    let (bytes, header) = model_file::read(&small, limit).unwrap();
    assert_eq!((bytes, header.hidden), (model, 32));
    let _ = std::fs::remove_dir_all(&dir);
    assert_peak_bounded();
}
