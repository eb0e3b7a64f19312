//! Labelled sensor series from files: the UCR/UEA archive's `.ts` format and one CSV layout.
//!
//! A [`SeriesSet`] holds the class names, the channel count and the series, each a label index
//! and its samples stored time-major (`values[t·channels + c]` is channel `c` at step `t`), so a
//! series becomes the `&[[f32; I]]` of [`Sequence::Dense`](crate::Sequence::Dense) with one copy
//! ([`Series::dense`]), its unused input channels left 0.
//!
//! ## The `.ts` format
//!
//! As the archive defines it (Bagnall et al., `sktime`/`aeon` `load_from_tsfile`): header lines
//! `@problemName NAME`, `@timeStamps false`, `@missing true|false`, `@univariate true|false`,
//! `@dimensions C`, `@equalLength true|false`, `@seriesLength N`, `@classLabel true NAMES…`,
//! then `@data` and one series a line: channels separated by `:`, values by `,`, the class
//! label after the last `:`. Keys are case-insensitive; lines starting with `#` and blank lines
//! are skipped. A missing value (`?`, `NaN`) is an error: the series must be complete.
//!
//! ```text
//! # two channels, two classes
//! @problemName Tiny
//! @dimensions 2
//! @equalLength false
//! @classLabel true still moving
//! @data
//! 0.1,0.2,0.3:1,1,1:still
//! 0.5,0.9:2,3:moving
//! ```
//!
//! ## The CSV layout
//!
//! What a data logger exports: a header row, then one row per sample, the rows of one series
//! contiguous and in time order:
//!
//! ```text
//! series,label,ax,ay,az
//! walk-1,walking,0.01,0.98,0.12
//! walk-1,walking,0.03,0.95,0.10
//! sit-1,sitting,0.00,1.00,0.00
//! ```
//!
//! The first two columns are the series id and its class label (any text without a comma;
//! `series` and `label` in the header by convention, the names are not checked), the others are
//! the channels (the header names them; it sets the channel count). Every row of a series has the same label. A series id that comes back after another
//! series is an error (the rows would not be contiguous). The class names are the distinct
//! labels, sorted; [`SeriesSet::with_classes`] maps a test file onto the training file's classes.
//!
//! ## Errors
//!
//! Every problem is a [`SeriesError`] naming the file and the 1-based line:
//! `data/walk.ts:14: "1.5x" is not a number`. No input may make anything here panic (the fuzz
//! target `series_parse` searches for one), and [`read`] reads at most [`Limits::bytes`].

use crate::model::normalize::{Moments, Normalization};
use std::fmt;
use std::path::Path;

/// How large a set may be: what the model compiled for and how much a reader takes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most channels per sample (the model's inputs).
    pub channels: usize,
    /// Most classes (the model's outputs).
    pub classes: usize,
    /// Most steps per series (the training tape's length).
    pub steps: usize,
    /// Most bytes [`read`] reads from a file.
    pub bytes: u64,
}

impl Limits {
    /// 16 channels, 16 classes, 4096 steps, 256 MiB.
    pub const DEFAULT: Self = Self {
        channels: 16,
        classes: 16,
        steps: 4096,
        bytes: 256 << 20,
    };
}

/// One labelled series.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The class, an index into [`SeriesSet::class_names`].
    pub label: usize,
    /// The samples, time-major: channel `c` of step `t` is `values[t * channels + c]`.
    pub values: Vec<f32>,
}

impl Series {
    /// The number of steps, for a set of `channels` channels.
    pub fn steps(&self, channels: usize) -> usize {
        self.values.len().checked_div(channels).unwrap_or(0)
    }

    /// The samples as input vectors of `I ≥ channels` entries (a smaller `I` would drop the last
    /// channels; [`Limits::channels`] keeps files within it), channels past `channels` 0, each
    /// sample normalized by `normalization`: what [`Sequence::Dense`](crate::Sequence::Dense)
    /// takes.
    ///
    /// ```
    /// use micrornn::host::series::Series;
    /// use micrornn::model::normalize::Normalization;
    /// let series = Series { label: 0, values: vec![1.0, 2.0, 3.0, 4.0] };
    /// let dense = series.dense::<3>(2, &Normalization::IDENTITY);
    /// assert_eq!(dense, [[1.0, 2.0, 0.0], [3.0, 4.0, 0.0]]);
    /// ```
    pub fn dense<const I: usize>(
        &self,
        channels: usize,
        normalization: &Normalization<I>,
    ) -> Vec<[f32; I]> {
        if channels == 0 {
            return Vec::new();
        }
        self.values
            .chunks_exact(channels)
            .map(|sample| {
                let mut vector = [0.0f32; I];
                for (to, from) in vector.iter_mut().zip(sample) {
                    *to = *from;
                }
                normalization.apply(&mut vector);
                vector
            })
            .collect()
    }
}

/// A labelled set of series read from one file.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesSet {
    /// `@problemName` of a `.ts` file (empty when absent, and for CSV).
    pub problem_name: String,
    /// The class names; a series' label indexes this list.
    pub class_names: Vec<String>,
    /// Channels per sample, at least 1.
    pub channels: usize,
    /// One name per channel: a CSV file's header names (an empty one becomes its number), `1`
    /// to `C` for a `.ts` file.
    pub channel_names: Vec<String>,
    /// The series, in file order; at least one.
    pub series: Vec<Series>,
}

impl SeriesSet {
    /// The length of the longest series, in steps.
    pub fn longest(&self) -> usize {
        let channels = self.channels;
        self.series
            .iter()
            .map(|s| s.steps(channels))
            .max()
            .unwrap_or(0)
    }

    /// The same series labelled by `names` instead (the training file's classes, so that a test
    /// file's label indices mean the same classes).
    ///
    /// # Errors
    /// A class of this set that `names` does not hold ([`Problem::UnknownLabel`], line 0).
    pub fn with_classes(mut self, names: &[String], file: &str) -> Result<Self, SeriesError> {
        let mut map = Vec::with_capacity(self.class_names.len());
        for name in &self.class_names {
            let index = names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| SeriesError::new(file, 0, Problem::UnknownLabel(name.clone())))?;
            map.push(index);
        }
        for series in &mut self.series {
            series.label = map.get(series.label).copied().unwrap_or(0);
        }
        self.class_names = names.to_vec();
        Ok(self)
    }

    /// The per-channel mean and standard deviation over every sample of every series (the
    /// training set's, to normalize it and everything the model later sees); channels past
    /// [`SeriesSet::channels`] get mean 0 and standard deviation 1, so padding stays 0.
    ///
    /// ```
    /// use micrornn::host::series::{Series, SeriesSet};
    /// let set = SeriesSet {
    ///     problem_name: String::new(),
    ///     class_names: vec!["a".into()],
    ///     channels: 1,
    ///     channel_names: vec!["1".into()],
    ///     series: vec![Series { label: 0, values: vec![1.0, 3.0] }],
    /// };
    /// let normalization = set.normalization::<2>();
    /// assert_eq!((normalization.mean, normalization.std), ([2.0, 0.0], [1.0, 1.0]));
    /// ```
    pub fn normalization<const I: usize>(&self) -> Normalization<I> {
        let mut moments = Moments::<I>::ZERO;
        let mut sample = [0.0f32; I];
        for series in &self.series {
            for values in series.values.chunks_exact(self.channels.max(1)) {
                for (to, from) in sample.iter_mut().zip(values) {
                    *to = *from;
                }
                moments.add(&sample);
            }
        }
        let mut normalization = moments.normalization();
        for c in self.channels..I {
            if let (Some(mean), Some(std)) =
                (normalization.mean.get_mut(c), normalization.std.get_mut(c))
            {
                (*mean, *std) = (0.0, 1.0);
            }
        }
        normalization
    }
}

/// What is wrong with a series file.
#[derive(Debug)]
#[non_exhaustive]
pub enum Problem {
    /// The file cannot be read.
    Io(std::io::Error),
    /// The file is larger than [`Limits::bytes`].
    TooLarge(u64),
    /// The bytes are not UTF-8.
    NotUtf8,
    /// The file holds no series.
    Empty,
    /// A `.ts` file without its `@data` line.
    MissingData,
    /// A header line that is not one of the format's, or a value it does not accept.
    BadHeader(String),
    /// A value that is not a number.
    NotANumber(String),
    /// A missing value (`?`, `NaN`) or an infinite one.
    MissingValue(String),
    /// A series whose channel count differs from the file's.
    ChannelCount {
        /// Channels the file has (its header or its first series).
        expected: usize,
        /// Channels this series has.
        found: usize,
    },
    /// A series whose channels have different lengths.
    RaggedChannels,
    /// A series of another length than `@seriesLength` says.
    SeriesLength {
        /// `@seriesLength`.
        expected: usize,
        /// This series' length.
        found: usize,
    },
    /// A series or a channel with no value.
    EmptySeries,
    /// A label that `@classLabel` does not declare (or, for [`SeriesSet::with_classes`], that
    /// the training set does not have).
    UnknownLabel(String),
    /// A CSV series whose rows carry different labels.
    LabelChanges {
        /// The series' first label.
        first: String,
        /// This row's.
        found: String,
    },
    /// A CSV series id that comes back after another series.
    NotContiguous(String),
    /// More channels than [`Limits::channels`].
    TooManyChannels {
        /// The file's channels.
        found: usize,
        /// The limit.
        limit: usize,
    },
    /// More classes than [`Limits::classes`].
    TooManyClasses {
        /// The file's classes.
        found: usize,
        /// The limit.
        limit: usize,
    },
    /// A series longer than [`Limits::steps`].
    TooLong {
        /// Its steps.
        found: usize,
        /// The limit.
        limit: usize,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Io(e) => write!(f, "{e}"),
            Problem::TooLarge(limit) => write!(f, "the file is larger than {limit} bytes"),
            Problem::NotUtf8 => write!(f, "not UTF-8 text"),
            Problem::Empty => write!(f, "the file holds no series"),
            Problem::MissingData => write!(f, "no @data line: not a .ts file"),
            Problem::BadHeader(what) => write!(f, "{what}"),
            Problem::NotANumber(text) => write!(f, "{text:?} is not a number"),
            Problem::MissingValue(text) => write!(
                f,
                "missing value {text:?}: every sample must be a finite number"
            ),
            Problem::ChannelCount { expected, found } => {
                write!(f, "{found} channels, but the file has {expected}")
            }
            Problem::RaggedChannels => write!(f, "the channels of this series differ in length"),
            Problem::SeriesLength { expected, found } => {
                write!(f, "{found} steps, but @seriesLength says {expected}")
            }
            Problem::EmptySeries => write!(f, "a series or channel with no values"),
            Problem::UnknownLabel(label) => write!(f, "class {label:?} is not declared"),
            Problem::LabelChanges { first, found } => {
                write!(
                    f,
                    "label {found:?}, but this series' rows began as {first:?}"
                )
            }
            Problem::NotContiguous(id) => write!(
                f,
                "series {id:?} comes back after another series (its rows must be contiguous)"
            ),
            Problem::TooManyChannels { found, limit } => {
                write!(f, "{found} channels; at most {limit} are supported")
            }
            Problem::TooManyClasses { found, limit } => {
                write!(f, "{found} classes; at most {limit} are supported")
            }
            Problem::TooLong { found, limit } => {
                write!(
                    f,
                    "a series of {found} steps; at most {limit} are supported"
                )
            }
        }
    }
}

/// A [`Problem`] and where: the file and the 1-based line (0 when it concerns the whole file).
#[derive(Debug)]
pub struct SeriesError {
    /// The file, as given.
    pub file: String,
    /// The 1-based line, or 0.
    pub line: usize,
    /// What is wrong.
    pub problem: Problem,
}

impl SeriesError {
    fn new(file: &str, line: usize, problem: Problem) -> Self {
        Self {
            file: file.to_string(),
            line,
            problem,
        }
    }
}

impl fmt::Display for SeriesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.file, self.problem),
            line => write!(f, "{}:{line}: {}", self.file, self.problem),
        }
    }
}

impl std::error::Error for SeriesError {}

/// Reads a series file: CSV if its name ends in `.csv` (any case), `.ts` otherwise.
///
/// # Errors
/// A [`SeriesError`] naming the file and line.
pub fn read(path: &Path, limits: &Limits) -> Result<SeriesSet, SeriesError> {
    let name = path.display().to_string();
    let fail = |problem| SeriesError::new(&name, 0, problem);
    // The length decides first (a file longer than the limit is refused unread), then the read
    // goes through the limit (a file that grows, or has no length, is still bounded).
    let bytes = super::bounded::read_file(path, limits.bytes).map_err(|e| match e {
        super::bounded::ReadError::Io(e) => fail(Problem::Io(e)),
        _ => fail(Problem::TooLarge(limits.bytes)),
    })?;
    let text = String::from_utf8(bytes).map_err(|_| fail(Problem::NotUtf8))?;
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        parse_csv(&text, &name, limits)
    } else {
        parse_ts(&text, &name, limits)
    }
}

/// What the `.ts` header declares.
#[derive(Default)]
struct Header {
    problem_name: String,
    dimensions: Option<usize>,
    series_length: Option<usize>,
    equal_length: bool,
    class_names: Option<Vec<String>>,
}

/// Parses the text of a `.ts` file; `file` names it in errors.
///
/// # Errors
/// A [`SeriesError`] naming `file` and the line.
///
/// ```
/// use micrornn::host::series::{Limits, parse_ts};
/// let text = "@classLabel true a b\n@data\n1,2,3:a\n4,5:b\n";
/// let set = parse_ts(text, "tiny.ts", &Limits::DEFAULT)?;
/// assert_eq!((set.channels, set.series.len(), set.longest()), (1, 2, 3));
/// assert_eq!(set.series[1].label, 1);
/// let err = parse_ts("@classLabel true a\n@data\n1,x:a\n", "bad.ts", &Limits::DEFAULT);
/// assert_eq!(err.unwrap_err().to_string(), "bad.ts:3: \"x\" is not a number");
/// # Ok::<(), micrornn::host::series::SeriesError>(())
/// ```
pub fn parse_ts(text: &str, file: &str, limits: &Limits) -> Result<SeriesSet, SeriesError> {
    let fail = |line, problem| SeriesError::new(file, line, problem);
    if text.trim().is_empty() {
        return Err(fail(0, Problem::Empty));
    }
    let mut header = Header::default();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
    let mut found_data = false;
    for (number, line) in lines.by_ref() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(key_value) = line.strip_prefix('@') else {
            return Err(fail(
                number,
                Problem::BadHeader("a series before the @data line".into()),
            ));
        };
        let (key, value) = key_value
            .split_once(char::is_whitespace)
            .map_or((key_value, ""), |(k, v)| (k, v.trim()));
        let bad = |what: &str| fail(number, Problem::BadHeader(format!("@{key} {what}")));
        let flag = |value: &str| match value.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(bad("must be true or false")),
        };
        let count = |value: &str| {
            value
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| bad("must be a positive whole number"))
        };
        match key.to_ascii_lowercase().as_str() {
            "problemname" => header.problem_name = value.to_string(),
            "timestamps" if flag(value)? => {
                return Err(bad("true: time-stamped series are not supported"));
            }
            "missing" | "timestamps" => {
                flag(value)?;
            }
            "univariate" => {
                if flag(value)? {
                    header.dimensions = Some(1);
                }
            }
            "dimensions" | "dimension" => header.dimensions = Some(count(value)?),
            "equallength" => header.equal_length = flag(value)?,
            "serieslength" => header.series_length = Some(count(value)?),
            "classlabel" => {
                let mut words = value.split_whitespace();
                if !flag(words.next().unwrap_or(""))? {
                    return Err(bad("false: a classifier needs labelled series"));
                }
                let names: Vec<String> = words.map(str::to_string).collect();
                if names.is_empty() {
                    return Err(bad("true declares no class"));
                }
                if names.len() > limits.classes {
                    return Err(fail(
                        number,
                        Problem::TooManyClasses {
                            found: names.len(),
                            limit: limits.classes,
                        },
                    ));
                }
                header.class_names = Some(names);
            }
            "targetlabel" => return Err(bad("(regression) is not supported: use @classLabel")),
            "data" => {
                found_data = true;
                break;
            }
            _ => return Err(bad("is not a .ts header key")),
        }
    }
    if !found_data {
        return Err(fail(0, Problem::MissingData));
    }
    let class_names = header
        .class_names
        .ok_or_else(|| fail(0, Problem::BadHeader("no @classLabel true line".into())))?;
    if let Some(channels) = header.dimensions
        && channels > limits.channels
    {
        return Err(fail(
            0,
            Problem::TooManyChannels {
                found: channels,
                limit: limits.channels,
            },
        ));
    }
    let mut channels = header.dimensions;
    let mut series = Vec::new();
    for (number, line) in lines {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |problem| fail(number, problem);
        let (data, label) = line.rsplit_once(':').ok_or_else(|| {
            at(Problem::BadHeader(
                "no `:label` at the end of the series".into(),
            ))
        })?;
        let label = label.trim();
        let label = class_names
            .iter()
            .position(|name| name == label)
            .ok_or_else(|| at(Problem::UnknownLabel(label.to_string())))?;
        let found = data.split(':').count();
        if found > limits.channels {
            return Err(at(Problem::TooManyChannels {
                found,
                limit: limits.channels,
            }));
        }
        let expected = *channels.get_or_insert(found);
        if found != expected {
            return Err(at(Problem::ChannelCount { expected, found }));
        }
        let mut per_channel = Vec::with_capacity(found);
        for channel in data.split(':') {
            let values = channel
                .split(',')
                .map(|v| number_of(v.trim()).map_err(at))
                .collect::<Result<Vec<f32>, _>>()?;
            if values.len() > limits.steps {
                return Err(at(Problem::TooLong {
                    found: values.len(),
                    limit: limits.steps,
                }));
            }
            per_channel.push(values);
        }
        let steps = per_channel.first().map_or(0, Vec::len);
        if per_channel.iter().any(|c| c.len() != steps) {
            return Err(at(Problem::RaggedChannels));
        }
        if let (true, Some(expected)) = (header.equal_length, header.series_length)
            && steps != expected
        {
            return Err(at(Problem::SeriesLength {
                expected,
                found: steps,
            }));
        }
        let mut values = Vec::with_capacity(steps * found);
        for t in 0..steps {
            values.extend(per_channel.iter().filter_map(|c| c.get(t)));
        }
        series.push(Series { label, values });
    }
    let names = channels.map(|c| (1..=c).map(|n| n.to_string()).collect());
    finish(
        file,
        header.problem_name,
        class_names,
        channels,
        names,
        series,
    )
}

/// A value of a series: a finite number. An empty field, `?` and `NaN` are missing values.
fn number_of(text: &str) -> Result<f32, Problem> {
    if text.is_empty() || text == "?" || text.eq_ignore_ascii_case("nan") {
        return Err(Problem::MissingValue(text.to_string()));
    }
    match text.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(Problem::MissingValue(text.to_string())),
        Err(_) => Err(Problem::NotANumber(text.to_string())),
    }
}

/// The set, once the file is read: it must hold a series.
fn finish(
    file: &str,
    problem_name: String,
    class_names: Vec<String>,
    channels: Option<usize>,
    channel_names: Option<Vec<String>>,
    series: Vec<Series>,
) -> Result<SeriesSet, SeriesError> {
    match (channels, channel_names) {
        (Some(channels), Some(channel_names)) if !series.is_empty() => Ok(SeriesSet {
            problem_name,
            class_names,
            channels,
            channel_names,
            series,
        }),
        _ => Err(SeriesError::new(file, 0, Problem::Empty)),
    }
}

/// Parses the text of a CSV file in the layout of the [module documentation](self); `file`
/// names it in errors.
///
/// # Errors
/// A [`SeriesError`] naming `file` and the line.
///
/// ```
/// use micrornn::host::series::{Limits, parse_csv};
/// let text = "series,label,x,y\ns1,up,0,1\ns1,up,0,2\ns2,down,5,5\n";
/// let set = parse_csv(text, "log.csv", &Limits::DEFAULT)?;
/// assert_eq!(set.class_names, ["down", "up"]);
/// assert_eq!((set.channels, set.series.len()), (2, 2));
/// assert_eq!(set.channel_names, ["x", "y"]);
/// assert_eq!(set.series[0].values, [0.0, 1.0, 0.0, 2.0]);
/// # Ok::<(), micrornn::host::series::SeriesError>(())
/// ```
pub fn parse_csv(text: &str, file: &str, limits: &Limits) -> Result<SeriesSet, SeriesError> {
    let fail = |line, problem| SeriesError::new(file, line, problem);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let Some((header_line, header)) = lines.next() else {
        return Err(fail(0, Problem::Empty));
    };
    let columns = header.split(',').count();
    if columns < 3 {
        return Err(fail(
            header_line,
            Problem::BadHeader(
                "the header must be `series,label,CHANNEL…` with at least one channel".into(),
            ),
        ));
    }
    let channels = columns - 2;
    if channels > limits.channels {
        return Err(fail(
            header_line,
            Problem::TooManyChannels {
                found: channels,
                limit: limits.channels,
            },
        ));
    }
    // (id, label text, values) of each series, in file order.
    let mut rows: Vec<(&str, &str, Vec<f32>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (number, line) in lines {
        let at = |problem| fail(number, problem);
        let mut fields = line.split(',').map(str::trim);
        let (id, label) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        let values = fields
            .map(|v| number_of(v).map_err(at))
            .collect::<Result<Vec<f32>, _>>()?;
        if values.len() != channels {
            return Err(at(Problem::ChannelCount {
                expected: channels,
                found: values.len(),
            }));
        }
        match rows.last_mut() {
            Some((last_id, first, series)) if *last_id == id => {
                if *first != label {
                    return Err(at(Problem::LabelChanges {
                        first: first.to_string(),
                        found: label.to_string(),
                    }));
                }
                if series.len() / channels >= limits.steps {
                    return Err(at(Problem::TooLong {
                        found: series.len() / channels + 1,
                        limit: limits.steps,
                    }));
                }
                series.extend(values);
            }
            _ => {
                if !seen.insert(id) {
                    return Err(at(Problem::NotContiguous(id.to_string())));
                }
                rows.push((id, label, values));
            }
        }
    }
    let mut class_names: Vec<String> = rows.iter().map(|(_, l, _)| l.to_string()).collect();
    class_names.sort();
    class_names.dedup();
    if class_names.len() > limits.classes {
        return Err(fail(
            0,
            Problem::TooManyClasses {
                found: class_names.len(),
                limit: limits.classes,
            },
        ));
    }
    let series = rows
        .into_iter()
        .map(|(_, label, values)| Series {
            label: class_names
                .binary_search_by(|n| n.as_str().cmp(label))
                .unwrap_or(0),
            values,
        })
        .collect();
    let channel_names = header
        .split(',')
        .skip(2)
        .enumerate()
        .map(|(c, name)| match name.trim() {
            "" => (c + 1).to_string(),
            name => name.to_string(),
        })
        .collect();
    finish(
        file,
        String::new(),
        class_names,
        Some(channels),
        Some(channel_names),
        series,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits::DEFAULT;

    fn ts_error(text: &str) -> String {
        parse_ts(text, "t.ts", &LIMITS).unwrap_err().to_string()
    }

    fn csv_error(text: &str) -> String {
        parse_csv(text, "t.csv", &LIMITS).unwrap_err().to_string()
    }

    #[test]
    fn reads_equal_length_multichannel_ts_with_comments() {
        let text = "# a comment\n\n@problemName Two\n@timeStamps false\n@missing false\n\
                    @univariate false\n@dimensions 2\n@equalLength true\n@seriesLength 3\n\
                    @classLabel true left right\n@data\n1,2,3:4,5,6:right\n# between\n\
                    7,8,9:0,0,1:left\n";
        let set = parse_ts(text, "t.ts", &LIMITS).unwrap();
        assert_eq!(set.problem_name, "Two");
        assert_eq!(set.class_names, ["left", "right"]);
        assert_eq!(set.channels, 2);
        assert_eq!(set.series.len(), 2);
        assert_eq!(set.series[0].label, 1);
        assert_eq!(set.series[0].values, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(set.series[1].label, 0);
        assert_eq!(set.longest(), 3);
    }

    #[test]
    fn reads_unequal_lengths_and_case_insensitive_keys() {
        let text = "@problemname U\n@UNIVARIATE true\n@equallength false\n\
                    @classlabel true 1 2 10\n@DATA\n1.5,-2e-1:10\n3:1\n4,5,6,7 : 2\n";
        let set = parse_ts(text, "t.ts", &LIMITS).unwrap();
        let steps: Vec<usize> = set.series.iter().map(|s| s.steps(1)).collect();
        assert_eq!(steps, [2, 1, 4]);
        assert_eq!(set.series[0].values, [1.5, -0.2]);
        let labels: Vec<usize> = set.series.iter().map(|s| s.label).collect();
        assert_eq!(labels, [2, 0, 1]);
    }

    #[test]
    fn every_bad_ts_is_an_error_naming_file_and_line() {
        let head = "@classLabel true a b\n@data\n";
        let cases = [
            ("", "t.ts: the file holds no series"),
            (" \n\n", "t.ts: the file holds no series"),
            ("# only a comment\n", "t.ts: no @data line: not a .ts file"),
            (
                "@classLabel true a\n1,2:a\n",
                "t.ts:2: a series before the @data line",
            ),
            (
                "@classLabel true a\n@data\n",
                "t.ts: the file holds no series",
            ),
            (
                &format!("{head}1,2:3,4:a\n1,2:b\n"),
                "t.ts:4: 1 channels, but the file has 2",
            ),
            (
                "@dimensions 2\n@classLabel true a\n@data\n1,2:a\n",
                "t.ts:4: 1 channels, but the file has 2",
            ),
            (
                &format!("{head}1,2:3:a\n"),
                "t.ts:3: the channels of this series differ in length",
            ),
            (&format!("{head}1,x:a\n"), "t.ts:3: \"x\" is not a number"),
            (
                &format!("{head}1,?:a\n"),
                "t.ts:3: missing value \"?\": every sample must be a finite number",
            ),
            (
                &format!("{head}\n\n1,NaN:a\n"),
                "t.ts:5: missing value \"NaN\": every sample must be a finite number",
            ),
            (
                &format!("{head}1,inf:a\n"),
                "t.ts:3: missing value \"inf\": every sample must be a finite number",
            ),
            (
                &format!("{head}1,,2:a\n"),
                "t.ts:3: missing value \"\": every sample must be a finite number",
            ),
            (
                &format!("{head}1,2:c\n"),
                "t.ts:3: class \"c\" is not declared",
            ),
            (
                &format!("{head}1,2\n"),
                "t.ts:3: no `:label` at the end of the series",
            ),
            (
                "@equalLength true\n@seriesLength 3\n@classLabel true a\n@data\n1,2:a\n",
                "t.ts:5: 2 steps, but @seriesLength says 3",
            ),
            ("@data\n1:a\n", "t.ts: no @classLabel true line"),
            (
                "@classLabel false\n@data\n",
                "t.ts:1: @classLabel false: a classifier needs labelled series",
            ),
            (
                "@classLabel true\n@data\n",
                "t.ts:1: @classLabel true declares no class",
            ),
            (
                "@timeStamps true\n",
                "t.ts:1: @timeStamps true: time-stamped series are not supported",
            ),
            ("@colour blue\n", "t.ts:1: @colour is not a .ts header key"),
            (
                "@dimensions -1\n",
                "t.ts:1: @dimensions must be a positive whole number",
            ),
            ("@missing maybe\n", "t.ts:1: @missing must be true or false"),
        ];
        for (text, expected) in cases {
            assert_eq!(ts_error(text), expected, "{text:?}");
        }
    }

    #[test]
    fn limits_on_channels_classes_and_steps() {
        let limits = Limits {
            channels: 2,
            classes: 2,
            steps: 3,
            bytes: 1 << 20,
        };
        let error = |text: &str| parse_ts(text, "t.ts", &limits).unwrap_err().to_string();
        assert_eq!(
            error("@classLabel true a b c\n@data\n"),
            "t.ts:1: 3 classes; at most 2 are supported"
        );
        assert_eq!(
            error("@dimensions 3\n@classLabel true a\n@data\n1:1:1:a\n"),
            "t.ts: 3 channels; at most 2 are supported"
        );
        assert_eq!(
            error("@classLabel true a\n@data\n1:1:1:a\n"),
            "t.ts:3: 3 channels; at most 2 are supported"
        );
        assert_eq!(
            error("@classLabel true a\n@data\n1,2,3,4:a\n"),
            "t.ts:3: a series of 4 steps; at most 3 are supported"
        );
        let csv_error = |text: &str| parse_csv(text, "t.csv", &limits).unwrap_err().to_string();
        assert_eq!(
            csv_error("series,label,x,y,z\n"),
            "t.csv:1: 3 channels; at most 2 are supported"
        );
        assert_eq!(
            csv_error("series,label,x\n1,a,0\n2,b,0\n3,c,0\n"),
            "t.csv: 3 classes; at most 2 are supported"
        );
        assert_eq!(
            csv_error("series,label,x\n1,a,0\n1,a,0\n1,a,0\n1,a,0\n"),
            "t.csv:5: a series of 4 steps; at most 3 are supported"
        );
    }

    #[test]
    fn reads_the_csv_layout() {
        let text = "series,label,ax,ay\nw1,walk,0.5,1\nw1,walk,0.25,2\n\ns1,sit,0,0\nw2,walk,1,1\n";
        let set = parse_csv(text, "t.csv", &LIMITS).unwrap();
        assert_eq!(set.class_names, ["sit", "walk"]);
        assert_eq!(set.channels, 2);
        let labels: Vec<usize> = set.series.iter().map(|s| s.label).collect();
        assert_eq!(labels, [1, 0, 1]);
        assert_eq!(set.series[0].values, [0.5, 1.0, 0.25, 2.0]);
        assert_eq!(set.longest(), 2);
    }

    #[test]
    fn every_bad_csv_is_an_error_naming_file_and_line() {
        let cases = [
            ("", "t.csv: the file holds no series"),
            ("series,label,x\n", "t.csv: the file holds no series"),
            (
                "series,label\n1,a\n",
                "t.csv:1: the header must be `series,label,CHANNEL…` with at least one channel",
            ),
            (
                "series,label,x,y\n1,a,0,0\n1,a,0\n",
                "t.csv:3: 1 channels, but the file has 2",
            ),
            (
                "series,label,x\n1,a,zero\n",
                "t.csv:2: \"zero\" is not a number",
            ),
            (
                "series,label,x\n1,a,?\n",
                "t.csv:2: missing value \"?\": every sample must be a finite number",
            ),
            (
                "series,label,x\n1,a,NaN\n",
                "t.csv:2: missing value \"NaN\": every sample must be a finite number",
            ),
            (
                "series,label,x\n1,a,0\n1,b,0\n",
                "t.csv:3: label \"b\", but this series' rows began as \"a\"",
            ),
            (
                "series,label,x\n1,a,0\n2,a,0\n1,a,0\n",
                "t.csv:4: series \"1\" comes back after another series (its rows must be contiguous)",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(csv_error(text), expected, "{text:?}");
        }
    }

    #[test]
    fn test_labels_map_onto_the_training_classes() {
        let train = parse_csv("s,l,x\n1,b,0\n2,c,0\n3,a,0\n", "train.csv", &LIMITS).unwrap();
        let test = parse_csv("s,l,x\n1,c,0\n2,b,0\n", "test.csv", &LIMITS).unwrap();
        assert_eq!(test.series[0].label, 1);
        let test = test.with_classes(&train.class_names, "test.csv").unwrap();
        let labels: Vec<usize> = test.series.iter().map(|s| s.label).collect();
        assert_eq!(labels, [2, 1]);
        assert_eq!(test.class_names, ["a", "b", "c"]);
        let other = parse_csv("s,l,x\n1,d,0\n", "other.csv", &LIMITS).unwrap();
        assert_eq!(
            other
                .with_classes(&train.class_names, "other.csv")
                .unwrap_err()
                .to_string(),
            "other.csv: class \"d\" is not declared"
        );
    }

    #[test]
    fn reads_files_through_the_size_limit() {
        let dir = std::env::temp_dir().join(format!("micrornn-series-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ts = dir.join("a.ts");
        std::fs::write(&ts, "@classLabel true a\n@data\n1,2:a\n").unwrap();
        let csv = dir.join("a.CSV");
        std::fs::write(&csv, "series,label,x\n1,a,1\n1,a,2\n").unwrap();
        let from_ts = read(&ts, &LIMITS).unwrap();
        let from_csv = read(&csv, &LIMITS).unwrap();
        assert_eq!(from_ts.series, from_csv.series);
        let small = Limits {
            bytes: 10,
            ..LIMITS
        };
        let error = read(&ts, &small).unwrap_err().to_string();
        assert!(
            error.ends_with("a.ts: the file is larger than 10 bytes"),
            "{error}"
        );
        std::fs::write(&ts, b"@data\n\xff").unwrap();
        assert!(
            read(&ts, &LIMITS)
                .unwrap_err()
                .to_string()
                .ends_with("not UTF-8 text")
        );
        let missing = read(&dir.join("none.ts"), &LIMITS).unwrap_err();
        assert!(matches!(missing.problem, Problem::Io(_)), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dense_pads_channels_and_normalizes() {
        let set = parse_ts("@classLabel true a\n@data\n1,3:10,30:a\n", "t.ts", &LIMITS).unwrap();
        let normalization = set.normalization::<3>();
        assert_eq!(normalization.mean, [2.0, 20.0, 0.0]);
        assert_eq!(normalization.std, [1.0, 10.0, 1.0]);
        let dense = set.series[0].dense::<3>(set.channels, &normalization);
        assert_eq!(dense, [[-1.0, -1.0, 0.0], [1.0, 1.0, 0.0]]);
    }
}
