//! The host layer (feature `std`): everything around the `no_std` core that needs files, a clock or a heap.
//!
//! One idea per module:
//!
//! | module | what |
//! |---|---|
//! | [`corpus`] | reading a text corpus (UTF-8, with line numbers in errors), the built-in corpus, the train/validation split |
//! | [`boxed`] | heap placement of large zeroed structs (models, tapes, optimizer memory) without a stack copy |
//! | [`atomic`] | writing a file so that a crash never leaves it half-written (temp file, fsync, rename) |
//! | [`model_file`] | model files on disk, in the [`crate::format`] encoding |
//! | [`kernel_choice`] | the kernel table named by the environment variable `MICRORNN_KERNELS`, for comparing tables |
//! | [`optimizer`] | [`optimizer::AnyOptimizer`]: an optimizer chosen at run time, its memory on the heap |
//! | [`threads`] | [`threads::Threads`]: a batch's shards on several threads, deterministic |
//! | [`checkpoint`] | everything needed to resume training bit for bit |
//! | [`history`] | the loss history as CSV and as an SVG plot |
//! | [`weights`] | PyTorch `nn.RNN`+`nn.Linear` and Keras `SimpleRNN`+`Dense` weights in and out as safetensors (and in from a numpy `.npz`, module `npz`) |
//! | [`series`] | labelled sensor series from `.ts` (UCR/UEA archive) and CSV files, with errors naming file and line |
//! | [`words`] | [`words::WordVocab`]: the sorted word vocabulary of the classifier, with an explicit `<unk>` |

pub mod atomic;
pub mod boxed;
pub mod checkpoint;
pub mod corpus;
pub mod history;
pub mod kernel_choice;
pub mod model_file;
mod npz;
pub mod optimizer;
pub mod series;
pub mod threads;
pub mod weights;
pub mod words;
