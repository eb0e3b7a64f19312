//! The loss history of a training run: one row every few iterations, saved as CSV and drawn as
//! an SVG line plot (with plotters' SVG backend).

use plotters::prelude::{
    ChartBuilder, Circle, Color, IntoDrawingArea, LineSeries, PathElement, RGBColor, SVGBackend,
    SeriesLabelPosition, TRANSPARENT, WHITE,
};
use std::fmt::Write as _;

/// One row of the history.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Record {
    /// Updates applied so far.
    pub iteration: u64,
    /// Completed passes over the training text.
    pub epoch: u64,
    /// Seconds of training so far (summed over resumed runs).
    pub seconds: f64,
    /// Mean loss per character of the chunks since the previous row, in nats.
    pub loss_per_char: f64,
    /// min-char-rnn's smoothed loss, divided by the chunk length: nats per character.
    pub smooth_loss_per_char: f64,
    /// Loss per character on (a prefix of) the validation text, when it was measured.
    pub val_loss_per_char: Option<f64>,
}

/// The CSV header line.
pub const CSV_HEADER: &str =
    "iteration,epoch,seconds,loss_per_char,smooth_loss_per_char,val_loss_per_char";

/// A run's loss history.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// The rows, by increasing iteration.
    pub records: Vec<Record>,
}

impl History {
    /// The history as CSV, with [`CSV_HEADER`]; an unmeasured validation loss is an empty field.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from(CSV_HEADER);
        csv.push('\n');
        for r in &self.records {
            let val = r
                .val_loss_per_char
                .map(|v| format!("{v}"))
                .unwrap_or_default();
            let _ = writeln!(
                csv,
                "{},{},{:.3},{:.5},{:.5},{val}",
                r.iteration, r.epoch, r.seconds, r.loss_per_char, r.smooth_loss_per_char
            );
        }
        csv
    }

    /// Parses CSV written by [`History::to_csv`]; lines that do not parse are skipped.
    pub fn from_csv(csv: &str) -> Self {
        let records = csv
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut f = line.split(',');
                Some(Record {
                    iteration: f.next()?.parse().ok()?,
                    epoch: f.next()?.parse().ok()?,
                    seconds: f.next()?.parse().ok()?,
                    loss_per_char: f.next()?.parse().ok()?,
                    smooth_loss_per_char: f.next()?.parse().ok()?,
                    val_loss_per_char: f.next().and_then(|v| v.parse().ok()),
                })
            })
            .collect();
        Self { records }
    }

    /// An SVG line plot of the loss per character against the iteration: the chunk loss (grey),
    /// the smoothed loss (blue) and the validation loss (orange, with dots while there are few),
    /// drawn with plotters' SVG backend. Histories longer than [`MAX_POINTS`] rows are averaged
    /// in buckets of consecutive rows. Text is laid out with plotters' built-in size estimate and
    /// drawn by the viewer, so no font is needed here.
    pub fn to_svg(&self, title: &str) -> String {
        let mut svg = String::new();
        // The String backend cannot fail (no I/O, no fonts); were plotters to report an error
        // anyway, the plot would be incomplete, which `draw`'s callers cannot do better about.
        let _ = self.draw(title, &mut svg);
        svg
    }

    /// Draws the plot of [`History::to_svg`] into `svg`.
    fn draw(&self, title: &str, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
        let x_max = self.records.last().map_or(1, |r| r.iteration).max(1) as f64;
        let x_min = self.records.first().map_or(0, |r| r.iteration) as f64;
        let x_min = if x_min >= x_max { 0.0 } else { x_min };
        let chunk_loss = self.series(|r| Some(r.loss_per_char));
        let smooth = self.series(|r| Some(r.smooth_loss_per_char));
        let val = self.series(|r| r.val_loss_per_char);
        let y_max = [&chunk_loss, &smooth, &val]
            .into_iter()
            .flatten()
            .map(|&(_, y)| y)
            .fold(0.0f64, f64::max)
            .max(0.1);
        // Round the top of the y axis up to a multiple of a "nice" step (1, 2 or 5 × 10^k).
        let y_step = nice_step(y_max / 5.0);
        let y_ticks = (y_max / y_step).ceil().max(1.0);
        let y_max = y_ticks * y_step;
        let decimals = (-y_step.log10().floor()).max(0.0) as usize;

        let root = SVGBackend::with_string(svg, (800, 450)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(x_min..x_max, 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_desc("iteration")
            .y_desc("loss (nats/char)")
            .x_labels(7)
            .y_labels(y_ticks as usize + 1)
            .x_label_formatter(&|x| short_number(*x))
            .y_label_formatter(&|y| format!("{y:.decimals$}"))
            .light_line_style(TRANSPARENT)
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 15))
            .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
            .draw()?;
        let curves = [
            (&chunk_loss, RGBColor(0xbb, 0xbb, 0xbb), 1, "chunk loss"),
            (&smooth, RGBColor(0x1f, 0x77, 0xb4), 2, "smoothed loss"),
            (&val, RGBColor(0xff, 0x7f, 0x0e), 2, "validation loss"),
        ];
        for (points, color, width, label) in curves {
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(width),
                ))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 24, y)], color.stroke_width(3))
                });
        }
        if val.len() <= 60 {
            let orange = RGBColor(0xff, 0x7f, 0x0e).filled();
            chart.draw_series(val.iter().map(|&point| Circle::new(point, 3, orange)))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(("sans-serif", 14))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(0xcc, 0xcc, 0xcc))
            .draw()?;
        root.present()?;
        Ok(())
    }

    /// One curve: `(iteration, value)` of the rows that have a finite value, averaged in
    /// buckets of consecutive rows so that there are at most [`MAX_POINTS`] points.
    fn series(&self, value: impl Fn(&Record) -> Option<f64>) -> Vec<(f64, f64)> {
        let bucket = self.records.len().div_ceil(MAX_POINTS).max(1);
        self.records
            .chunks(bucket)
            .filter_map(|chunk| {
                let values: Vec<f64> = chunk
                    .iter()
                    .filter_map(&value)
                    .filter(|v| v.is_finite())
                    .collect();
                let last = chunk.last()?;
                (!values.is_empty()).then(|| {
                    let mean = values.iter().sum::<f64>() / values.len() as f64;
                    (last.iteration as f64, mean)
                })
            })
            .collect()
    }
}

/// Points drawn per curve at most (longer histories are averaged).
pub const MAX_POINTS: usize = 400;

/// `1500000` → `1.5M`, `20000` → `20k`, `300` → `300`.
fn short_number(x: f64) -> String {
    if x >= 1e6 {
        format!("{}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{}k", x / 1e3)
    } else {
        format!("{x}")
    }
}

/// The smallest of 1, 2 or 5 × 10^k that is at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&step| step >= raw)
        .unwrap_or(10.0 * magnitude)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trips_and_svg_has_the_curves() {
        let history = History {
            records: vec![
                Record {
                    iteration: 100,
                    epoch: 0,
                    seconds: 1.5,
                    loss_per_char: 3.2,
                    smooth_loss_per_char: 4.1,
                    val_loss_per_char: None,
                },
                Record {
                    iteration: 200,
                    epoch: 1,
                    seconds: 3.0,
                    loss_per_char: 2.5,
                    smooth_loss_per_char: 3.9,
                    val_loss_per_char: Some(2.75),
                },
            ],
        };
        let csv = history.to_csv();
        assert!(csv.starts_with(CSV_HEADER));
        assert_eq!(History::from_csv(&csv), history);
        let svg = history.to_svg("a <title>");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // Three curves, each drawn once in its colour and once as its legend mark.
        let points = |stroke| {
            polylines(&svg, stroke)
                .iter()
                .map(Vec::len)
                .collect::<Vec<_>>()
        };
        assert_eq!(points(CHUNK), [2, 2], "{svg}");
        assert_eq!(points(SMOOTH), [2, 2]);
        assert_eq!(points(VALIDATION), [1, 2]);
        // The title (escaped), the axis names, the legend and tick labels are text elements.
        for text in [
            ">\na &lt;title&gt;\n<",
            ">\niteration\n<",
            ">\nloss (nats/char)\n<",
            ">\nsmoothed loss\n<",
            ">\nvalidation loss\n<",
            ">\n140\n<",
            ">\n5\n<",
        ] {
            assert!(svg.contains(text), "no {text:?} in {svg}");
        }
        // One validation loss: one dot.
        assert_eq!(svg.matches("<circle").count(), 1);
    }

    /// The SVG colours of the three curves, as plotters writes them.
    const CHUNK: &str = "#BBBBBB";
    const SMOOTH: &str = "#1F77B4";
    const VALIDATION: &str = "#FF7F0E";

    /// The points of each `<polyline>` of an SVG drawn in `stroke`, as (x, y) pixel pairs.
    fn polylines(svg: &str, stroke: &str) -> Vec<Vec<(f64, f64)>> {
        svg.split("<polyline")
            .skip(1)
            .filter(|element| element.contains(&format!("stroke=\"{stroke}\"")))
            .map(|element| {
                let points = element.split("points=\"").nth(1).unwrap();
                let points = &points[..points.find('"').unwrap()];
                points
                    .split_whitespace()
                    .map(|pair| {
                        let (x, y) = pair.split_once(',').unwrap();
                        (x.parse().unwrap(), y.parse().unwrap())
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn long_histories_are_averaged_in_buckets() {
        // 10,000 rows whose chunk loss alternates 1 and 3: averaged in buckets of 25 rows (an
        // odd count), every point is 2 ± 0.04, so the curve is nearly flat; unaveraged it would
        // zig-zag over the whole range.
        let records: Vec<Record> = (0..10_000u64)
            .map(|i| Record {
                iteration: (i + 1) * 10,
                epoch: 0,
                seconds: i as f64,
                loss_per_char: if i % 2 == 0 { 1.0 } else { 3.0 },
                smooth_loss_per_char: 2.0,
                val_loss_per_char: (i % 100 == 99).then_some(2.5),
            })
            .collect();
        let history = History { records };
        assert_eq!(history.series(|r| Some(r.loss_per_char)).len(), MAX_POINTS);
        let means = history.series(|r| Some(r.loss_per_char));
        assert!(
            means.iter().all(|&(_, y)| (y - 2.0).abs() < 0.05),
            "{means:?}"
        );
        assert_eq!(means.last().map(|p| p.0), Some(100_000.0));

        let svg = history.to_svg("long");
        let chunk = &polylines(&svg, CHUNK)[0];
        assert_eq!(chunk.len(), MAX_POINTS);
        assert_eq!(polylines(&svg, VALIDATION)[0].len(), 100);
        let (low, high) = chunk
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &(_, y)| {
                (lo.min(y), hi.max(y))
            });
        // Means 1.96 and 2.04: about 11 px apart, where the raw rows are about 200 px apart.
        assert!(
            high - low < 20.0,
            "the averaged curve spans {low}..{high} px"
        );
        // 100 validation points: a line without dots; the x axis counts in thousands.
        assert_eq!(svg.matches("<circle").count(), 0);
        assert!(svg.contains(">\n100k\n<"), "{svg}");
    }

    #[test]
    fn empty_and_non_finite_histories_still_plot() {
        let svg = History::default().to_svg("empty");
        assert!(svg.trim_end().ends_with("</svg>") && svg.contains(">\niteration\n<"));
        let history = History {
            records: vec![Record {
                iteration: 5,
                epoch: 0,
                seconds: 0.1,
                loss_per_char: f64::NAN,
                smooth_loss_per_char: f64::INFINITY,
                val_loss_per_char: None,
            }],
        };
        let svg = history.to_svg("diverged");
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }
}
