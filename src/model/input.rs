//! What a model reads: one step's [`Input`] (a token id or a dense vector), a chunk's
//! [`Sequence`] of them, and the [`Targets`] a loss compares the outputs against.

/// One input to a step: a token id (a one-hot vector, looked up as a row of `w_xh`) or a dense
/// vector of `I` features (a sensor sample, say).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Input<'a, const I: usize> {
    /// A token id in `0..I`.
    Token(usize),
    /// A dense input vector.
    Dense(&'a [f32; I]),
}

/// The inputs of one chunk: token ids (one-hot) or dense vectors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sequence<'a, const I: usize> {
    /// Token ids, each in `0..I`.
    Tokens(&'a [usize]),
    /// Dense input vectors.
    Dense(&'a [[f32; I]]),
}

impl<'a, const I: usize> Sequence<'a, I> {
    /// Number of steps.
    pub fn len(&self) -> usize {
        match self {
            Sequence::Tokens(tokens) => tokens.len(),
            Sequence::Dense(vectors) => vectors.len(),
        }
    }

    /// `true` for a sequence of no steps.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The input of step `t`, if there is one.
    pub fn get(&self, t: usize) -> Option<Input<'a, I>> {
        match *self {
            Sequence::Tokens(tokens) => tokens.get(t).map(|&id| Input::Token(id)),
            Sequence::Dense(vectors) => vectors.get(t).map(Input::Dense),
        }
    }
}

/// Which state a many-to-one model reads its class from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Readout {
    /// The state after the last step (notebook 004).
    #[default]
    Last,
    /// The mean of the states over all steps (see [`Targets::Mean`]).
    Mean,
}

impl Readout {
    /// The name model files' metadata and the binary's `--readout` use: `last` or `mean`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Readout::Last => "last",
            Readout::Mean => "mean",
        }
    }

    /// The readout named `name` ([`Readout::name`]), if any.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Readout::Last, Readout::Mean]
            .into_iter()
            .find(|readout| readout.name() == name)
    }

    /// The targets of one labelled sequence read this way.
    #[must_use]
    pub const fn targets(self, label: usize) -> Targets<'static> {
        match self {
            Readout::Last => Targets::Last(label),
            Readout::Mean => Targets::Mean(label),
        }
    }
}

/// What the loss compares the outputs against.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Targets<'a> {
    /// A target class after every step (a language model: the next token).
    Each(&'a [usize]),
    /// One target class after the last step only (a many-to-one classifier).
    Last(usize),
    /// One target class for the mean of the states over all steps (a many-to-one classifier
    /// that reads the whole sequence, not only its end): the readout is `W_hy·mean_t(h_t) +
    /// b_y`, so every step's state gets `1/n` of the output's gradient. With a BPTT window each
    /// step's share flows back at most `window` steps.
    Mean(usize),
}
