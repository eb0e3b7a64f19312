//! Augmentation of a training series, drawn anew for each update: a time stretch (the same
//! movement, faster or slower) and Gaussian noise on the input values. `series_training` applies
//! them when `SeriesTraining::stretch` / `SeriesTraining::noise` are above 0.

use crate::model::init::gaussian;
use rand_core::Rng;

/// Writes `series` resampled to `round(n·factor)` steps (at least 1, at most `longest`) into
/// `out`, by linear interpolation between neighbouring samples: the same movement, faster or
/// slower.
pub fn stretch<const I: usize>(
    series: &[[f32; I]],
    factor: f32,
    longest: usize,
    out: &mut Vec<[f32; I]>,
) {
    out.clear();
    let n = series.len();
    let m = ((n as f32 * factor).round() as usize).clamp(1, longest.max(1));
    if n < 2 || m == n {
        out.extend_from_slice(series);
        return;
    }
    let step = (n - 1) as f32 / (m - 1).max(1) as f32;
    for j in 0..m {
        let x = j as f32 * step;
        let left = (x as usize).min(n - 2);
        let w = (x - left as f32).clamp(0.0, 1.0);
        let (Some(a), Some(b)) = (series.get(left), series.get(left + 1)) else {
            break;
        };
        let mut sample = [0.0f32; I];
        for (s, (a, b)) in sample.iter_mut().zip(a.iter().zip(b)) {
            *s = a + w * (b - a);
        }
        out.push(sample);
    }
}

/// Adds `N(0, std²)` to the first `channels` entries of every sample.
pub fn add_noise<R: Rng + ?Sized, const I: usize>(
    series: &mut [[f32; I]],
    channels: usize,
    std: f32,
    rng: &mut R,
) {
    let mut draws = [0.0f32; I];
    for sample in series {
        gaussian(rng, draws.get_mut(..channels).unwrap_or(&mut []), std);
        for (x, d) in sample.iter_mut().zip(draws) {
            *x += d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn stretch_resamples_linearly_and_noise_touches_only_the_files_channels() {
        let series = [[0.0f32, 5.0], [1.0, 5.0], [2.0, 5.0], [3.0, 5.0]];
        let mut out = Vec::new();
        stretch(&series, 2.0, 100, &mut out);
        assert_eq!(out.len(), 8);
        for (j, sample) in out.iter().enumerate() {
            assert!((sample[0] - j as f32 * 3.0 / 7.0).abs() < 1e-6 && sample[1] == 5.0);
        }
        stretch(&series, 0.5, 100, &mut out);
        assert_eq!(out, [[0.0, 5.0], [3.0, 5.0]]);
        stretch(&series, 1.0, 100, &mut out);
        assert_eq!(out, series);
        stretch(&series, 10.0, 6, &mut out);
        assert_eq!(
            (out.len(), out[5]),
            (6, [3.0, 5.0]),
            "never longer than the tape"
        );
        let mut noisy = [[0.0f32; 3]; 50];
        add_noise(&mut noisy, 2, 0.5, &mut crate::DefaultRng::seed_from_u64(1));
        assert!(noisy.iter().all(|s| s[2] == 0.0), "a padding input stays 0");
        let spread = noisy.iter().map(|s| s[0] * s[0] + s[1] * s[1]).sum::<f32>() / 100.0;
        assert!((0.15..0.4).contains(&spread), "variance {spread} ≈ 0.25");
    }
}
