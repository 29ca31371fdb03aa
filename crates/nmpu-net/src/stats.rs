//! Statistics of accuracies over analog seeds: spread, the paired difference of two NMPUs
//! with a bootstrap interval, and McNemar's exact test.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// Mean, sample standard deviation, least and largest of some values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Spread {
    pub mean: f64,
    pub sd: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(v: &[f64]) -> Spread {
        if v.is_empty() {
            return Spread::default();
        }
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = if v.len() > 1 {
            (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        Spread {
            mean,
            sd,
            min: v.iter().copied().fold(f64::INFINITY, f64::min),
            max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// McNemar's exact test: the two-sided binomial p-value of `b` images only one variant
/// classifies right against `c` only the other does, under "either is as likely".
pub fn mcnemar_p(b: usize, c: usize) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    // log P(K = k) for K ~ Binomial(n, 1/2), summed up to min(b, c) in the log domain's
    // exponent (n may be thousands: 2^-n underflows).
    let mut lp = -(n as f64) * std::f64::consts::LN_2;
    let mut tail = 0.0;
    for k in 0..=b.min(c) {
        tail += lp.exp();
        lp += ((n - k) as f64 / (k + 1) as f64).ln();
    }
    (2.0 * tail).min(1.0)
}

/// Per image, the difference of two variants' correctness on one seed: only the images
/// where they differ, as (image, +1 or -1).
pub type Discordant = Vec<(usize, i8)>;

/// The images on which `x` and `y` (per image, right or wrong) differ: +1 where only `x`
/// is right.
pub fn discordant(x: &[bool], y: &[bool]) -> Discordant {
    x.iter()
        .zip(y)
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, (&a, _))| (i, if a { 1 } else { -1 }))
        .collect()
}

/// Bootstrap replicates of an interval.
pub const REPLICATES: usize = 2000;

/// Bootstrap replicates of the mean over seeds of a paired accuracy difference
/// (`per_seed`, each seed's discordant images of `images` images): each replicate draws
/// the seeds and the images with replacement (the same images for every seed: the image
/// set is one), so the replicates spread as the mean would over another set of tiles and
/// another sample of images. Sorted, in accuracy units.
pub fn replicates(per_seed: &[Discordant], images: usize, seed: u64) -> Vec<f64> {
    if per_seed.is_empty() || images == 0 {
        return vec![0.0; REPLICATES];
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut counts = vec![0u32; images];
    let mut means: Vec<f64> = (0..REPLICATES)
        .map(|_| {
            counts.iter_mut().for_each(|c| *c = 0);
            for _ in 0..images {
                counts[rng.random_range(0..images)] += 1;
            }
            let s = per_seed.len();
            let total: i64 = (0..s)
                .map(|_| {
                    per_seed[rng.random_range(0..s)]
                        .iter()
                        .map(|&(i, d)| i64::from(counts[i]) * i64::from(d))
                        .sum::<i64>()
                })
                .sum();
            total as f64 / (s * images) as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    means
}

/// The 95 % percentile interval of [`replicates`].
pub fn paired_interval(per_seed: &[Discordant], images: usize, seed: u64) -> (f64, f64) {
    let r = replicates(per_seed, images, seed);
    let at = |q: f64| r[((q * (REPLICATES - 1) as f64).round() as usize).min(REPLICATES - 1)];
    (at(0.025), at(0.975))
}

/// The standard error of the mean difference: the standard deviation of [`replicates`].
pub fn paired_se(per_seed: &[Discordant], images: usize, seed: u64) -> f64 {
    Spread::of(&replicates(per_seed, images, seed)).sd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_of_a_few_values() {
        let s = Spread::of(&[1.0, 2.0, 3.0, 6.0]);
        assert_eq!((s.mean, s.min, s.max), (3.0, 1.0, 6.0));
        assert!((s.sd - (14.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(Spread::of(&[2.5]).sd, 0.0);
    }

    /// Against the binomial tail by hand: 10 to 0 gives 2 / 2^10; 5 to 5 gives 1; 7 to 2
    /// gives 2 (1 + 9 + 36) / 512.
    #[test]
    fn mcnemar_matches_the_binomial_tail() {
        assert!((mcnemar_p(10, 0) - 2.0 / 1024.0).abs() < 1e-15);
        assert!((mcnemar_p(0, 10) - 2.0 / 1024.0).abs() < 1e-15);
        assert_eq!(mcnemar_p(5, 5), 1.0);
        assert_eq!(mcnemar_p(0, 0), 1.0);
        assert!((mcnemar_p(7, 2) - 2.0 * 46.0 / 512.0).abs() < 1e-12);
        // Large counts do not underflow: 1100 against 900 is far from even.
        let p = mcnemar_p(1100, 900);
        assert!(p > 0.0 && p < 1e-5, "{p}");
    }

    /// On independent per-image differences of known variance, the interval is centred on
    /// the mean and as wide as the normal approximation's, within a tenth.
    #[test]
    fn the_interval_has_the_analytic_width() {
        let images = 4000;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        // One seed: each image +1 with probability 0.06, -1 with 0.04.
        let seeds: Vec<Discordant> = vec![(0..images)
            .filter_map(|i| {
                let u: f64 = rng.random();
                if u < 0.06 {
                    Some((i, 1))
                } else if u < 0.10 {
                    Some((i, -1))
                } else {
                    None
                }
            })
            .collect()];
        let d: Vec<f64> = (0..images)
            .map(|i| {
                seeds[0]
                    .iter()
                    .find(|x| x.0 == i)
                    .map_or(0.0, |x| f64::from(x.1))
            })
            .collect();
        let s = Spread::of(&d);
        let se = s.sd / (images as f64).sqrt();
        let (lo, hi) = paired_interval(&seeds, images, 1);
        assert!(
            ((hi - lo) / (2.0 * 1.96 * se) - 1.0).abs() < 0.1,
            "{lo} {hi} {se}"
        );
        assert!(
            (0.5 * (lo + hi) - s.mean).abs() < 0.2 * se,
            "{lo} {hi} {}",
            s.mean
        );
        assert_eq!(paired_interval(&[vec![], vec![]], images, 1), (0.0, 0.0));
    }

    /// Seeds that differ shift every image of theirs: the images alone miss that spread,
    /// the two-level replicates see it. Two seeds, one +1 on a tenth of the images, the
    /// other -1 on another tenth: the mean is 0 and its spread about that of two seeds
    /// of +-0.1, 0.07.
    #[test]
    fn the_interval_covers_the_seeds_spread() {
        let images = 2000;
        let up: Discordant = (0..images / 10).map(|i| (i, 1)).collect();
        let down: Discordant = (images / 10..images / 5).map(|i| (i, -1)).collect();
        let se = paired_se(&[up, down], images, 3);
        assert!(se > 0.05 && se < 0.09, "{se}");
    }

    #[test]
    fn discordant_images_and_their_sign() {
        let x = [true, true, false, false];
        let y = [true, false, true, false];
        assert_eq!(discordant(&x, &y), vec![(1, 1), (2, -1)]);
    }
}
