//! The datasets: Fashion-MNIST (28 x 28, the Debian package `dataset-fashion-mnist`) and
//! the UCI digits (8 x 8, shipped in `data/`). Pixels scaled to `[0, 1]`.

use anyhow::{bail, ensure, Context, Result};
use flate2::read::GzDecoder;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Images and their labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// Row-major, `pixels` values per image.
    pub images: Vec<f32>,
    pub labels: Vec<u8>,
    pub pixels: usize,
}

impl Split {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn image(&self, i: usize) -> &[f32] {
        &self.images[i * self.pixels..(i + 1) * self.pixels]
    }

    /// The images `idx`, in that order.
    pub fn pick(&self, idx: &[usize]) -> Split {
        Split {
            images: idx
                .iter()
                .flat_map(|&i| self.image(i).iter().copied())
                .collect(),
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
            pixels: self.pixels,
        }
    }
}

/// A dataset: training images (of which `validation` is held back for choices such as the
/// precision search, never the test set) and test images.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub name: &'static str,
    pub train: Split,
    pub validation: Split,
    pub test: Split,
    pub classes: usize,
}

/// Which dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Fashion,
    Digits,
}

impl Which {
    pub fn load(self) -> Result<Dataset> {
        match self {
            Which::Fashion => fashion(&fashion_dir()),
            Which::Digits => digits(),
        }
    }
}

/// Where Fashion-MNIST is: `$NMPU_FASHION_DIR`, else the Debian package's directory.
pub fn fashion_dir() -> PathBuf {
    std::env::var_os("NMPU_FASHION_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/datasets/fashion-mnist"))
}

fn gunzip(path: &Path) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| {
        format!(
            "cannot read {}: install Fashion-MNIST with `make deps` (Debian package \
             dataset-fashion-mnist) or point NMPU_FASHION_DIR at its IDX files",
            path.display()
        )
    })?;
    let mut out = vec![];
    GzDecoder::new(file)
        .read_to_end(&mut out)
        .with_context(|| format!("{} is not a gzip file", path.display()))?;
    Ok(out)
}

fn be32(b: &[u8], at: usize) -> usize {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// An IDX file's data after its header: magic `0x00 0x00 0x08 rank`, then `rank` sizes.
fn idx(bytes: &[u8], rank: usize, path: &Path) -> Result<(Vec<usize>, Vec<u8>)> {
    let head = 4 + 4 * rank;
    ensure!(
        bytes.len() >= head && bytes[..3] == [0, 0, 8] && bytes[3] as usize == rank,
        "{}: not an IDX file of unsigned bytes and rank {rank}",
        path.display()
    );
    let dims: Vec<usize> = (0..rank).map(|i| be32(bytes, 4 + 4 * i)).collect();
    let n: usize = dims.iter().product();
    ensure!(
        bytes.len() == head + n,
        "{}: {} data bytes, the header says {n}",
        path.display(),
        bytes.len() - head
    );
    Ok((dims, bytes[head..].to_vec()))
}

fn idx_split(dir: &Path, images: &str, labels: &str) -> Result<Split> {
    let (ip, lp) = (dir.join(images), dir.join(labels));
    let (dims, px) = idx(&gunzip(&ip)?, 3, &ip)?;
    let (ldims, lab) = idx(&gunzip(&lp)?, 1, &lp)?;
    ensure!(
        dims[0] == ldims[0],
        "{} images and {} labels",
        dims[0],
        ldims[0]
    );
    Ok(Split {
        images: px.iter().map(|&p| f32::from(p) / 255.0).collect(),
        labels: lab,
        pixels: dims[1] * dims[2],
    })
}

/// Train on `train` less a validation split of `validation` images drawn by `seed`.
fn with_validation(
    name: &'static str,
    train: Split,
    test: Split,
    validation: usize,
    seed: u64,
) -> Dataset {
    let mut idx: Vec<usize> = (0..train.len()).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let (val, rest) = idx.split_at(validation);
    let (mut val, mut rest) = (val.to_vec(), rest.to_vec());
    val.sort_unstable();
    rest.sort_unstable();
    Dataset {
        name,
        validation: train.pick(&val),
        train: train.pick(&rest),
        test,
        classes: 10,
    }
}

/// Fashion-MNIST from `dir`: 60,000 training images (5,000 held back for validation) and
/// 10,000 test images.
pub fn fashion(dir: &Path) -> Result<Dataset> {
    let train = idx_split(
        dir,
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    )?;
    let test = idx_split(
        dir,
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    )?;
    Ok(with_validation("Fashion-MNIST", train, test, 5000, 0))
}

/// The UCI digits: 1,797 images; 360 test images, 300 of the others for validation.
pub fn digits() -> Result<Dataset> {
    let bytes = include_bytes!("../data/digits.csv.gz");
    let mut text = String::new();
    GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .context("the shipped digits are not gzip")?;
    let mut all = Split {
        images: vec![],
        labels: vec![],
        pixels: 64,
    };
    for (n, line) in text.lines().enumerate() {
        let v: Vec<u8> = line
            .split(',')
            .map(|f| f.trim().parse())
            .collect::<Result<_, _>>()
            .with_context(|| format!("digits line {}", n + 1))?;
        if v.len() != 65 || v[64] > 9 {
            bail!("digits line {}: {} fields", n + 1, v.len());
        }
        all.images
            .extend(v[..64].iter().map(|&p| f32::from(p) / 16.0));
        all.labels.push(v[64]);
    }
    let mut idx: Vec<usize> = (0..all.len()).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(1));
    let (test, train) = idx.split_at(360);
    let (mut test, mut train) = (test.to_vec(), train.to_vec());
    test.sort_unstable();
    train.sort_unstable();
    Ok(with_validation(
        "UCI digits",
        all.pick(&train),
        all.pick(&test),
        300,
        0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digits_split_into_disjoint_sets() {
        let d = digits().unwrap();
        assert_eq!(
            (d.train.len(), d.validation.len(), d.test.len()),
            (1137, 300, 360)
        );
        assert_eq!(d.train.pixels, 64);
        assert!(d.train.images.iter().all(|&p| (0.0..=1.0).contains(&p)));
        // Every class in every split.
        for s in [&d.train, &d.validation, &d.test] {
            for c in 0..10u8 {
                assert!(s.labels.contains(&c), "class {c}");
            }
        }
    }

    #[test]
    fn idx_headers_are_checked() {
        let p = Path::new("x");
        let mut ok = vec![0, 0, 8, 1, 0, 0, 0, 2];
        ok.extend([7, 9]);
        assert_eq!(idx(&ok, 1, p).unwrap(), (vec![2], vec![7, 9]));
        assert!(idx(&ok[..9], 1, p).is_err());
        assert!(idx(&ok, 3, p).is_err());
        let e = fashion(Path::new("/nonexistent")).unwrap_err().to_string();
        assert!(e.contains("dataset-fashion-mnist"), "{e}");
    }
}
