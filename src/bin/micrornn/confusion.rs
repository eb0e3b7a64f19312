//! A confusion matrix: counts of (true class, predicted class), per-class precision and recall,
//! as a text table and as an SVG picture.

use std::fmt::Write;

/// Counts of every (true class, predicted class) pair.
pub struct Confusion {
    /// The class names.
    pub names: Vec<String>,
    /// `counts[true][predicted]`.
    pub counts: Vec<Vec<usize>>,
}

impl Confusion {
    /// An empty matrix over these classes.
    pub fn new(names: &[String]) -> Self {
        Self {
            names: names.to_vec(),
            counts: vec![vec![0; names.len()]; names.len()],
        }
    }

    /// Counts one series of class `truth` predicted as `predicted` (classes outside the matrix
    /// are not counted).
    pub fn add(&mut self, truth: usize, predicted: usize) {
        if let Some(cell) = self
            .counts
            .get_mut(truth)
            .and_then(|row| row.get_mut(predicted))
        {
            *cell += 1;
        }
    }

    /// Series counted.
    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    /// Of the series predicted as `class`, the fraction that are; `None` if none was.
    pub fn precision(&self, class: usize) -> Option<f64> {
        let predicted: usize = self.counts.iter().filter_map(|row| row.get(class)).sum();
        let hits = self.counts.get(class)?.get(class)?;
        (predicted > 0).then(|| *hits as f64 / predicted as f64)
    }

    /// Of the series of `class`, the fraction predicted as it; `None` if there is none.
    pub fn recall(&self, class: usize) -> Option<f64> {
        let row = self.counts.get(class)?;
        let actual: usize = row.iter().sum();
        (actual > 0).then(|| row[class] as f64 / actual as f64)
    }

    /// Per-class precision and recall, then the matrix (rows: true class, columns: predicted).
    pub fn table(&self) -> String {
        let width = self
            .names
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(0);
        let show = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
        let mut out = format!("{:width$}  precision  recall  series\n", "class");
        for (class, name) in self.names.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name:width$}  {:>9}  {:>6}  {:>6}",
                show(self.precision(class)),
                show(self.recall(class)),
                self.counts[class].iter().sum::<usize>()
            );
        }
        let cell = self
            .counts
            .iter()
            .flatten()
            .map(|c| c.to_string().len())
            .max()
            .unwrap_or(1)
            .max(3);
        let _ = writeln!(
            out,
            "confusion (rows: true class, columns: predicted, in class order):"
        );
        for (name, row) in self.names.iter().zip(&self.counts) {
            let cells: Vec<String> = row.iter().map(|c| format!("{c:>cell$}")).collect();
            let _ = writeln!(out, "{name:width$}  {}", cells.join(" "));
        }
        out
    }

    /// The matrix as an SVG picture: one square per pair, shaded by the fraction of its row
    /// (its true class), with the count written in it and the class names along both axes.
    pub fn svg(&self, title: &str) -> String {
        const CELL: usize = 48;
        let n = self.names.len();
        let label = 8 * self
            .names
            .iter()
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(1)
            + 16;
        let (left, top) = (label + 24, label + 48);
        let (width, height) = (left + n * CELL + 16, top + n * CELL + 16);
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
             viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
             <rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n\
             <text x=\"8\" y=\"18\" font-size=\"14\">{}</text>\n\
             <text x=\"{}\" y=\"38\" text-anchor=\"middle\">predicted</text>\n\
             <text x=\"12\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 12 {})\">true \
             class</text>\n",
            escape(title),
            left + n * CELL / 2,
            top + n * CELL / 2,
            top + n * CELL / 2,
        );
        for (i, name) in self.names.iter().enumerate() {
            let name = escape(name);
            let middle = i * CELL + CELL / 2;
            let _ = writeln!(
                svg,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" dominant-baseline=\"middle\">{name}</text>",
                left - 6,
                top + middle
            );
            let (x, y) = (left + middle, top - 6);
            let _ = writeln!(
                svg,
                "<text x=\"{x}\" y=\"{y}\" transform=\"rotate(-60 {x} {y})\">{name}</text>"
            );
        }
        for (i, row) in self.counts.iter().enumerate() {
            let total: usize = row.iter().sum();
            for (j, &count) in row.iter().enumerate() {
                let share = if total == 0 {
                    0.0
                } else {
                    count as f64 / total as f64
                };
                // White to dark blue; the text turns white on dark squares.
                let shade = |full: f64| (255.0 - share * (255.0 - full)).round() as u8;
                let (x, y) = (left + j * CELL, top + i * CELL);
                let ink = if share > 0.5 { "white" } else { "black" };
                let _ = writeln!(
                    svg,
                    "<rect x=\"{x}\" y=\"{y}\" width=\"{CELL}\" height=\"{CELL}\" \
                     fill=\"rgb({},{},{})\" stroke=\"#999\"/><text x=\"{}\" y=\"{}\" \
                     text-anchor=\"middle\" dominant-baseline=\"middle\" fill=\"{ink}\">{count}</text>",
                    shade(8.0),
                    shade(48.0),
                    shade(107.0),
                    x + CELL / 2,
                    y + CELL / 2
                );
            }
        }
        svg.push_str("</svg>\n");
        svg
    }
}

/// Text for SVG: `&`, `<`, `>` and `"` escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_recall_and_picture() {
        let names = ["a".to_string(), "b<".to_string(), "c".to_string()];
        let mut confusion = Confusion::new(&names);
        for (truth, predicted) in [(0, 0), (0, 1), (1, 1), (1, 1), (2, 1), (9, 0)] {
            confusion.add(truth, predicted);
        }
        assert_eq!(confusion.total(), 5);
        assert_eq!(confusion.counts, [[1, 1, 0], [0, 2, 0], [0, 1, 0]]);
        assert_eq!(confusion.precision(1), Some(0.5));
        assert_eq!(confusion.recall(0), Some(0.5));
        assert_eq!(confusion.precision(2), None);
        assert_eq!(confusion.recall(2), Some(0.0));
        let table = confusion.table();
        assert!(table.contains("b<      0.500   1.000       2"), "{table}");
        let svg = confusion.svg("t & t");
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<rect x=").count(), 9);
        assert!(svg.contains("t &amp; t") && svg.contains("b&lt;"));
    }
}
