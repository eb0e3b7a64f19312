//! The loss history of a training run: one row every few iterations, saved as CSV and drawn as
//! an SVG line plot (no plotting dependency: the SVG is a few lines of text).

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
                .map(|v| format!("{v:.5}"))
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
    /// the smoothed loss (blue) and the validation loss (orange dots).
    pub fn to_svg(&self, title: &str) -> String {
        const W: f64 = 800.0;
        const HT: f64 = 450.0;
        const LEFT: f64 = 60.0;
        const RIGHT: f64 = 20.0;
        const TOP: f64 = 40.0;
        const BOTTOM: f64 = 50.0;
        let finite = |v: f64| v.is_finite().then_some(v);
        let x_max = self.records.last().map_or(1, |r| r.iteration).max(1) as f64;
        let x_min = self.records.first().map_or(0, |r| r.iteration) as f64;
        let x_min = if x_min >= x_max { 0.0 } else { x_min };
        let y_max = self
            .records
            .iter()
            .flat_map(|r| {
                [
                    finite(r.loss_per_char),
                    finite(r.smooth_loss_per_char),
                    r.val_loss_per_char.and_then(finite),
                ]
            })
            .flatten()
            .fold(0.0f64, f64::max)
            .max(0.1);
        // Round the top of the y axis up to a multiple of a "nice" step (1, 2 or 5 × 10^k).
        let y_step = nice_step(y_max / 5.0);
        let y_ticks = (y_max / y_step).ceil().max(1.0);
        let y_max = y_ticks * y_step;
        let decimals = (-y_step.log10().floor()).max(0.0) as usize;
        let px = |x: f64| LEFT + (x - x_min) / (x_max - x_min) * (W - LEFT - RIGHT);
        let py = |y: f64| TOP + (1.0 - y / y_max) * (HT - TOP - BOTTOM);
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{HT}" viewBox="0 0 {W} {HT}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
            W / 2.0,
            escape(title)
        );
        for i in 0..=(y_ticks as u32) {
            let y = y_step * f64::from(i);
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" x2="{}" y1="{py:.1}" y2="{py:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{y:.decimals$}</text>"##,
                W - RIGHT,
                LEFT - 6.0,
                py(y) + 4.0,
                py = py(y)
            );
        }
        let x_step = nice_step((x_max - x_min) / 6.0).max(1.0);
        let first_tick = (x_min / x_step).ceil() as u64;
        for x in (first_tick..)
            .map(|k| k as f64 * x_step)
            .take_while(|&x| x <= x_max)
        {
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                px(x),
                HT - BOTTOM + 18.0,
                short_number(x)
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">iteration</text><text transform="translate(16 {}) rotate(-90)" text-anchor="middle">loss (nats/char)</text>"#,
            (LEFT + W - RIGHT) / 2.0,
            HT - 10.0,
            (TOP + HT - BOTTOM) / 2.0
        );
        let polyline = |values: &mut dyn Iterator<Item = (u64, f64)>, color: &str, width: f64| {
            let points: Vec<String> = values
                .filter(|(_, v)| v.is_finite())
                .map(|(x, y)| format!("{:.1},{:.1}", px(x as f64), py(y)))
                .collect();
            format!(
                r#"<polyline fill="none" stroke="{color}" stroke-width="{width}" points="{}"/>"#,
                points.join(" ")
            )
        };
        // At most ~MAX_POINTS points per curve: longer histories are averaged in buckets.
        let bucket = self.records.len().div_ceil(MAX_POINTS).max(1);
        let series = |value: &dyn Fn(&Record) -> Option<f64>| -> Vec<(u64, f64)> {
            self.records
                .chunks(bucket)
                .filter_map(|chunk| {
                    let values: Vec<f64> = chunk.iter().filter_map(value).collect();
                    let last = chunk.last()?;
                    (!values.is_empty()).then(|| {
                        (
                            last.iteration,
                            values.iter().sum::<f64>() / values.len() as f64,
                        )
                    })
                })
                .collect()
        };
        let chunk_loss = series(&|r| Some(r.loss_per_char));
        let smooth = series(&|r| Some(r.smooth_loss_per_char));
        let val = series(&|r| r.val_loss_per_char);
        for (points, color, width) in [
            (&chunk_loss, "#bbb", 1.0),
            (&smooth, "#1f77b4", 2.0),
            (&val, "#ff7f0e", 1.5),
        ] {
            let _ = writeln!(
                svg,
                "{}",
                polyline(&mut points.iter().copied(), color, width)
            );
        }
        if val.len() <= 60 {
            for (x, y) in val.iter().filter(|(_, y)| y.is_finite()) {
                let _ = writeln!(
                    svg,
                    r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="#ff7f0e"/>"##,
                    px(*x as f64),
                    py(*y)
                );
            }
        }
        let legend = [
            ("#bbb", "chunk loss"),
            ("#1f77b4", "smoothed loss"),
            ("#ff7f0e", "validation loss"),
        ];
        for (i, (color, label)) in legend.iter().enumerate() {
            let y = TOP + 10.0 + 18.0 * i as f64;
            let x = W - RIGHT - 150.0;
            let _ = writeln!(
                svg,
                r#"<line x1="{x}" x2="{}" y1="{y}" y2="{y}" stroke="{color}" stroke-width="3"/><text x="{}" y="{}">{label}</text>"#,
                x + 24.0,
                x + 30.0,
                y + 4.0
            );
        }
        svg.push_str("</svg>\n");
        svg
    }
}

/// Points drawn per curve at most (longer histories are averaged).
const MAX_POINTS: usize = 400;

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

/// Escapes text for an SVG text node.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
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
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert!(svg.contains("a &lt;title&gt;"));
    }
}
