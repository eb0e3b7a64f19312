//! Shards of a batch on several threads (std scoped threads; the core stays single-threaded).

use crate::workflows::batch_train::Parallel;

/// Runs the shards of a [`BatchTrainer`](crate::batch::BatchTrainer) on up to `n` threads (the
/// calling one and `n - 1` scoped threads), each taking a contiguous run of shards. The shards'
/// gradients are still summed in shard order afterwards, so the trained model is the same bit
/// for bit whatever `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threads(pub usize);

impl Parallel for Threads {
    fn for_each<S: Send, F: Fn(usize, &mut S) + Sync>(&self, items: &mut [S], f: F) {
        let threads = self.0.clamp(1, items.len().max(1));
        if threads == 1 {
            for (i, item) in items.iter_mut().enumerate() {
                f(i, item);
            }
            return;
        }
        let per_thread = items.len().div_ceil(threads);
        let f = &f;
        std::thread::scope(|scope| {
            let mut groups = items.chunks_mut(per_thread).enumerate();
            let mine = groups.next();
            for (g, group) in groups {
                scope.spawn(move || {
                    for (i, item) in group.iter_mut().enumerate() {
                        f(g * per_thread + i, item);
                    }
                });
            }
            if let Some((_, group)) = mine {
                for (i, item) in group.iter_mut().enumerate() {
                    f(i, item);
                }
            }
        });
    }
}
