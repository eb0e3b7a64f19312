//! The host layer (feature `std`): everything around the `no_std` core that needs files, a clock or a heap.
//!
//! One idea per module:
//!
//! | module | what |
//! |---|---|
//! | [`corpus`] | reading a text corpus (UTF-8, with line numbers in errors), the built-in corpus, the train/validation split |
//! | [`boxed`] | heap placement of large zeroed structs (models, tapes, optimizer memory) without a stack copy |
//! | [`bounded`] | reading untrusted files with bounded memory: the head first, never more bytes than the largest thing the reader can hold, zip entries through a limit |
//! | [`atomic`] | writing a file so that a crash never leaves it half-written (temp file, fsync, rename) |
//! | [`model_file`] | model files on disk, in the [`crate::format`] encoding |
//! | [`kernel_choice`] | the kernel table named by the environment variable `MICRORNN_KERNELS`, for comparing tables |
//! | [`optimizer`] | [`optimizer::AnyOptimizer`]: an optimizer chosen at run time, its memory on the heap |
//! | [`threads`] | [`threads::Threads`]: a batch's shards on several threads, deterministic |
//! | [`checkpoint`] | everything needed to resume training bit for bit |
//! | [`history`] | the loss history as CSV and as an SVG plot |
//! | [`weights`] | PyTorch `nn.RNN`+`nn.Linear` and Keras `SimpleRNN`+`Dense` weights in and out as safetensors (in also from a numpy `.npz`, module `npz`, and a PyTorch `.pt` zip, modules `torch_zip` and `torch_pickle`; formats told apart in `weight_files`, tensors found by role in `weight_roles`) |
//! | `weights_budget` | how much a weights import may read, from the sizes of the model it must fit ([`weights::budget_for`]) |
//! | [`series`] | labelled sensor series from `.ts` (UCR/UEA archive) and CSV files, with errors naming file and line |
//! | [`series_augment`] | augmentation of a training series: a random time stretch and input noise |
//! | [`series_training`] | the training loop of a series classifier (normalized inputs, Adam, mini-batches of series on threads, resumable), shared by `micrornn train FILE.ts` and the `sensors` example |
//! | [`series_checkpoint`] | a series run's checkpoint, in the [`checkpoint`] container: everything needed to resume it bit for bit |
//! | [`words`] | [`words::WordVocab`]: the sorted word vocabulary of the classifier, with an explicit `<unk>` |

pub mod atomic;
pub mod bounded;
pub mod boxed;
pub mod checkpoint;
pub mod corpus;
pub mod history;
pub mod kernel_choice;
pub mod model_file;
mod npz;
pub mod optimizer;
pub mod series;
pub mod series_augment;
pub mod series_checkpoint;
mod series_setup;
pub mod series_training;
pub mod threads;
mod torch_pickle;
mod torch_zip;
mod weight_files;
mod weight_roles;
mod weight_table;
pub mod weights;
mod weights_budget;
pub mod words;
