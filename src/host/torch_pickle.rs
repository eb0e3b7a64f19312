//! The `data.pkl` of a PyTorch `.pt`/`.pth` zip (what `torch.save(model.state_dict(), path)`
//! writes since PyTorch 1.6): a strict reader of the pickle opcodes `torch.save` emits for a
//! state dict, giving each tensor's storage key, dtype, offset, shape and stride.
//!
//! Why not a crate: `serde-pickle` (the well-kept Rust pickle reader) has no persistent ids
//! (`BINPERSID`), which is how every tensor refers to its storage, and the crates that do
//! (`candle-core`'s pickle module) bring a tensor library with them. The subset here is small:
//! nothing is ever executed; the only callables understood are `collections.OrderedDict` (an
//! empty dict), `torch._utils._rebuild_tensor_v2` and `_rebuild_parameter` (a tensor). Any
//! other callable (a pickled module class: `torch.save(model)`) is an error naming it. Memo
//! copies are budgeted, so a small hostile pickle cannot expand into a large value.

use std::fmt;

/// A tensor of the state dict, as the pickle describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TensorRef {
    /// The storage's entry name under `data/`.
    pub(super) storage: String,
    /// The storage class (`FloatStorage`, `DoubleStorage`, …).
    pub(super) storage_type: String,
    /// The storage's element count.
    pub(super) storage_len: usize,
    /// First element within the storage.
    pub(super) offset: usize,
    /// Shape.
    pub(super) shape: Vec<usize>,
    /// Stride per dimension, in elements.
    pub(super) stride: Vec<usize>,
}

/// What the pickle machine holds.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Global(String),
    /// A persistent id that named a storage.
    Storage {
        key: String,
        storage_type: String,
        len: usize,
    },
    Tensor(TensorRef),
}

impl Value {
    /// Nodes in this value (for the memo copy budget).
    fn size(&self) -> usize {
        1 + match self {
            Value::Tuple(items) | Value::List(items) => items.iter().map(Value::size).sum(),
            Value::Dict(items) => items.iter().map(|(k, v)| k.size() + v.size()).sum(),
            _ => 0,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Global(_) => "global",
            Value::Storage { .. } => "storage",
            Value::Tensor(_) => "tensor",
        }
    }
}

/// Why a `data.pkl` is not a state dict this reader takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PickleError(pub(super) String);

impl fmt::Display for PickleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn fail<T>(message: impl Into<String>) -> Result<T, PickleError> {
    Err(PickleError(message.into()))
}

/// Memo copies may create at most this many nodes in all (a state dict needs a few per tensor).
const COPY_BUDGET: usize = 1 << 20;

/// The pickle machine: stack, marks (stack heights), memo, input position.
struct Machine<'p> {
    bytes: &'p [u8],
    at: usize,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: Vec<Option<Value>>,
    copied: usize,
}

impl<'p> Machine<'p> {
    fn take(&mut self, n: usize) -> Result<&'p [u8], PickleError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return fail(format!("truncated at byte {}", self.at));
        };
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, PickleError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<usize, PickleError> {
        let b = self.take(2)?;
        Ok(usize::from(u16::from_le_bytes([b[0], b[1]])))
    }

    fn u32(&mut self) -> Result<usize, PickleError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn line(&mut self) -> Result<String, PickleError> {
        let rest = &self.bytes[self.at..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return fail("unterminated GLOBAL name");
        };
        let text = std::str::from_utf8(&rest[..end])
            .map_err(|_| PickleError("GLOBAL name is not UTF-8".into()))?;
        self.at += end + 1;
        Ok(text.to_string())
    }

    fn text(&mut self, n: usize) -> Result<Value, PickleError> {
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes)
            .map(|s| Value::Str(s.to_string()))
            .map_err(|_| PickleError("a string is not UTF-8".into()))
    }

    fn pop(&mut self) -> Result<Value, PickleError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return fail("stack underflow");
        }
        self.stack
            .pop()
            .ok_or_else(|| PickleError("stack underflow".into()))
    }

    fn top(&mut self) -> Result<&mut Value, PickleError> {
        self.stack
            .last_mut()
            .ok_or_else(|| PickleError("stack underflow".into()))
    }

    /// Everything above the last mark, which is removed.
    fn pop_mark(&mut self) -> Result<Vec<Value>, PickleError> {
        let Some(mark) = self.marks.pop() else {
            return fail("no MARK");
        };
        Ok(self.stack.split_off(mark))
    }

    fn put(&mut self, index: usize) -> Result<(), PickleError> {
        if index > self.memo.len() + 1024 {
            return fail(format!("memo index {index} out of order"));
        }
        let value = self
            .stack
            .last()
            .cloned()
            .ok_or_else(|| PickleError("PUT on an empty stack".into()))?;
        self.spend(&value)?;
        if self.memo.len() <= index {
            self.memo.resize(index + 1, None);
        }
        self.memo[index] = Some(value);
        Ok(())
    }

    fn get(&mut self, index: usize) -> Result<(), PickleError> {
        let value = self
            .memo
            .get(index)
            .cloned()
            .flatten()
            .ok_or_else(|| PickleError(format!("memo {index} is empty")))?;
        self.spend(&value)?;
        self.stack.push(value);
        Ok(())
    }

    fn spend(&mut self, value: &Value) -> Result<(), PickleError> {
        self.copied += value.size();
        if self.copied > COPY_BUDGET {
            return fail("too many memo copies for a state dict");
        }
        Ok(())
    }

    fn tuple(&mut self, n: usize) -> Result<(), PickleError> {
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.pop()?);
        }
        items.reverse();
        self.stack.push(Value::Tuple(items));
        Ok(())
    }

    fn set_items(&mut self, items: Vec<Value>) -> Result<(), PickleError> {
        if !items.len().is_multiple_of(2) {
            return fail("SETITEMS with an odd number of items");
        }
        let Value::Dict(dict) = self.top()? else {
            return fail("SETITEMS on something that is not a dict");
        };
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            dict.push((k, v));
        }
        Ok(())
    }

    fn append(&mut self, items: Vec<Value>) -> Result<(), PickleError> {
        let Value::List(list) = self.top()? else {
            return fail("APPENDS on something that is not a list");
        };
        list.extend(items);
        Ok(())
    }

    /// Runs the machine to `STOP`.
    fn run(mut self) -> Result<Value, PickleError> {
        loop {
            let op = self.u8()?;
            match op {
                0x80 => {
                    let version = self.u8()?;
                    if version > 5 {
                        return fail(format!("pickle protocol {version}"));
                    }
                }
                0x95 => {
                    self.take(8)?; // FRAME: a length hint
                }
                b'.' => return self.pop(),
                b'(' => self.marks.push(self.stack.len()),
                b'}' => self.stack.push(Value::Dict(Vec::new())),
                b']' => self.stack.push(Value::List(Vec::new())),
                b')' => self.stack.push(Value::Tuple(Vec::new())),
                b'N' => self.stack.push(Value::None),
                0x88 => self.stack.push(Value::Bool(true)),
                0x89 => self.stack.push(Value::Bool(false)),
                b'K' => {
                    let v = self.u8()?;
                    self.stack.push(Value::Int(i64::from(v)));
                }
                b'M' => {
                    let v = self.u16()?;
                    self.stack.push(Value::Int(v as i64));
                }
                b'J' => {
                    let b = self.take(4)?;
                    let v = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                    self.stack.push(Value::Int(i64::from(v)));
                }
                0x8a => {
                    // LONG1: a little-endian two's complement integer of n bytes.
                    let n = usize::from(self.u8()?);
                    if n > 8 {
                        return fail(format!("a {n}-byte integer"));
                    }
                    let b = self.take(n)?;
                    let mut full = [if b.last().is_some_and(|&x| x >= 0x80) {
                        0xff
                    } else {
                        0
                    }; 8];
                    full[..n].copy_from_slice(b);
                    self.stack.push(Value::Int(i64::from_le_bytes(full)));
                }
                b'G' => {
                    let b = self.take(8)?;
                    let bits = u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
                    self.stack.push(Value::Float(f64::from_bits(bits)));
                }
                b'X' => {
                    let n = self.u32()?;
                    let v = self.text(n)?;
                    self.stack.push(v);
                }
                0x8c => {
                    let n = usize::from(self.u8()?);
                    let v = self.text(n)?;
                    self.stack.push(v);
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.stack.push(Value::Global(format!("{module}.{name}")));
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Value::Str(module), Value::Str(name)) = (module, name) else {
                        return fail("STACK_GLOBAL of non-strings");
                    };
                    self.stack.push(Value::Global(format!("{module}.{name}")));
                }
                b'q' => {
                    let i = usize::from(self.u8()?);
                    self.put(i)?;
                }
                b'r' => {
                    let i = self.u32()?;
                    self.put(i)?;
                }
                0x94 => {
                    let i = self.memo.len();
                    self.put(i)?;
                }
                b'h' => {
                    let i = usize::from(self.u8()?);
                    self.get(i)?;
                }
                b'j' => {
                    let i = self.u32()?;
                    self.get(i)?;
                }
                b't' => {
                    let items = self.pop_mark()?;
                    self.stack.push(Value::Tuple(items));
                }
                0x85 => self.tuple(1)?,
                0x86 => self.tuple(2)?,
                0x87 => self.tuple(3)?,
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.set_items(vec![k, v])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    self.set_items(items)?;
                }
                b'a' => {
                    let v = self.pop()?;
                    self.append(vec![v])?;
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    self.append(items)?;
                }
                b'Q' => {
                    let id = self.pop()?;
                    let storage = persistent_storage(id)?;
                    self.stack.push(storage);
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let value = reduce(callable, args)?;
                    self.stack.push(value);
                }
                0x81 => {
                    // NEWOBJ: `cls.__new__(cls, *args)`, a Python object (a pickled module).
                    let _args = self.pop()?;
                    let class = self.pop()?;
                    return fail(not_a_state_dict(&class));
                }
                b'b' => {
                    // BUILD: the state of a dict (its `_metadata`) or of a tensor (none) is not
                    // needed; anything else is not a state dict.
                    let _state = self.pop()?;
                    match self.top()? {
                        Value::Dict(_) | Value::Tensor(_) => {}
                        other => return fail(format!("BUILD of a {}", other.kind())),
                    }
                }
                other => {
                    return fail(format!(
                        "pickle opcode 0x{other:02x} at byte {} (not one torch.save writes for a \
                         state dict)",
                        self.at - 1
                    ));
                }
            }
        }
    }
}

/// `('storage', torch.FloatStorage, '0', 'cpu', numel)`.
fn persistent_storage(id: Value) -> Result<Value, PickleError> {
    if let Value::Tuple(items) = &id
        && let [
            Value::Str(tag),
            Value::Global(storage_type),
            Value::Str(key),
            Value::Str(_location),
            Value::Int(len),
        ] = items.as_slice()
        && tag == "storage"
        && let Ok(len) = usize::try_from(*len)
    {
        let storage_type = storage_type.trim_start_matches("torch.").to_string();
        return Ok(Value::Storage {
            key: key.clone(),
            storage_type,
            len,
        });
    }
    fail(format!(
        "a persistent id that is not a tensor storage ({})",
        id.kind()
    ))
}

fn dims(value: &Value, what: &str) -> Result<Vec<usize>, PickleError> {
    let Value::Tuple(items) = value else {
        return fail(format!(
            "tensor {what} is a {}, expected a tuple",
            value.kind()
        ));
    };
    items
        .iter()
        .map(|v| match v {
            Value::Int(n) => {
                usize::try_from(*n).map_err(|_| PickleError(format!("tensor {what} {n}")))
            }
            other => fail(format!("tensor {what} holds a {}", other.kind())),
        })
        .collect()
}

/// Applies one of the few callables a state dict uses.
fn reduce(callable: Value, args: Value) -> Result<Value, PickleError> {
    let Value::Global(name) = callable else {
        return fail(format!("REDUCE of a {}", callable.kind()));
    };
    let Value::Tuple(args) = args else {
        return fail(format!("{name} called with a {}", args.kind()));
    };
    match name.as_str() {
        "collections.OrderedDict" if args.is_empty() => Ok(Value::Dict(Vec::new())),
        "torch._utils._rebuild_tensor_v2" | "torch._utils._rebuild_tensor" => {
            let [
                Value::Storage {
                    key,
                    storage_type,
                    len,
                },
                Value::Int(offset),
                size,
                stride,
                ..,
            ] = args.as_slice()
            else {
                return fail(format!("{name} with unexpected arguments"));
            };
            Ok(Value::Tensor(TensorRef {
                storage: key.clone(),
                storage_type: storage_type.clone(),
                storage_len: *len,
                offset: usize::try_from(*offset)
                    .map_err(|_| PickleError(format!("tensor offset {offset}")))?,
                shape: dims(size, "size")?,
                stride: dims(stride, "stride")?,
            }))
        }
        "torch._utils._rebuild_parameter" | "torch._utils._rebuild_parameter_with_state" => {
            match args.into_iter().next() {
                Some(tensor @ Value::Tensor(_)) => Ok(tensor),
                _ => fail(format!("{name} without a tensor")),
            }
        }
        _ => fail(not_a_state_dict(&Value::Global(name))),
    }
}

/// The error for a pickle that builds an object of `class`.
fn not_a_state_dict(class: &Value) -> String {
    let name = match class {
        Value::Global(name) => name.as_str(),
        other => other.kind(),
    };
    format!(
        "the pickle builds a {name} object: not a plain state dict of tensors (save \
         model.state_dict(), not the model)"
    )
}

/// The `(name, tensor)` entries of a state dict pickle, in file order.
///
/// # Errors
/// A [`PickleError`] naming the first thing that is not part of a state dict of tensors.
pub(super) fn state_dict(bytes: &[u8]) -> Result<Vec<(String, TensorRef)>, PickleError> {
    let machine = Machine {
        bytes,
        at: 0,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: Vec::new(),
        copied: 0,
    };
    let root = machine.run()?;
    let Value::Dict(entries) = root else {
        return fail(format!(
            "the pickle holds a {}, expected a state dict",
            root.kind()
        ));
    };
    entries
        .into_iter()
        .map(|(key, value)| match (key, value) {
            (Value::Str(name), Value::Tensor(t)) => Ok((name, t)),
            (Value::Str(name), other) => fail(format!(
                "state dict entry {name} is a {}, expected a tensor",
                other.kind()
            )),
            (other, _) => fail(format!("a state dict key is a {}", other.kind())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// The `data.pkl` of the `.pt` fixture torch 2.15 wrote.
    fn fixture_pickle() -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/interop/torch_onehot.pt"
        );
        let bytes = std::fs::read(path).expect("fixture present");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut entry = archive.by_name("torch_onehot/data.pkl").unwrap();
        let mut pickle = Vec::new();
        entry.read_to_end(&mut pickle).unwrap();
        pickle
    }

    #[test]
    fn reads_the_state_dict_torch_writes() {
        let entries = state_dict(&fixture_pickle()).unwrap();
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "rnn.weight_ih_l0",
                "rnn.weight_hh_l0",
                "rnn.bias_ih_l0",
                "rnn.bias_hh_l0",
                "linear.weight",
                "linear.bias"
            ]
        );
        let (_, w_ih) = &entries[0];
        assert_eq!(
            (w_ih.storage.as_str(), w_ih.storage_type.as_str()),
            ("0", "FloatStorage")
        );
        assert_eq!(
            (w_ih.shape.clone(), w_ih.stride.clone()),
            (vec![32, 31], vec![31, 1])
        );
        assert_eq!((w_ih.offset, w_ih.storage_len), (0, 32 * 31));
    }

    #[test]
    fn every_truncation_and_byte_change_is_an_error_or_a_state_dict_never_a_panic() {
        let pickle = fixture_pickle();
        for cut in 0..pickle.len() {
            assert!(state_dict(&pickle[..cut]).is_err(), "cut at {cut}");
        }
        for at in 0..pickle.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut bad = pickle.clone();
                bad[at] ^= flip;
                let _ = state_dict(&bad);
            }
        }
    }

    #[test]
    fn memo_copies_cannot_blow_up() {
        // t = (); repeat { t = (t, t) } 64 times: 2^64 nodes if copies were free.
        let mut pickle = b"\x80\x02)q\x00".to_vec();
        for i in 0..64u8 {
            pickle.extend_from_slice(&[b'h', i, b'h', i, 0x86, b'q', i + 1]);
        }
        pickle.push(b'.');
        let error = state_dict(&pickle).unwrap_err();
        assert!(error.0.contains("too many memo copies"), "{error}");
        assert!(
            state_dict(b"\x80\x02c__main__\nNet\n)R.")
                .unwrap_err()
                .0
                .contains("__main__.Net")
        );
    }
}
