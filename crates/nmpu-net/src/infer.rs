//! Inference on tiles: images through every layer's tile and NMPU, on all cores.
//!
//! Image `i` of a split uses noise draw `draws + i` on every tile (see
//! [`nmpu_tile::Tile::mvm_draw`]), so two runs on the same tiles with different NMPUs see
//! the same noise, image by image: their difference is the NMPUs' alone. The first layer's
//! ADC codes do not depend on any NMPU: they are computed once ([`first_codes`]) and
//! shared by every variant.

use crate::analog::Network;
use crate::stage::Stage;
use anyhow::{anyhow, ensure, Result};
use rayon::prelude::*;

/// Per image, the first layer's ADC codes.
pub fn first_codes(net: &Network, images: &[Vec<i64>], draws: u64) -> Result<Vec<Vec<i64>>> {
    images
        .par_iter()
        .enumerate()
        .map(|(i, x)| {
            let mut blocks = net.layers[0]
                .tile
                .mvm_draw(x, draws + i as u64)
                .map_err(|e| anyhow!("layer 0, image {i}: {e}"))?;
            ensure!(blocks.len() == 1, "a layer on one row block of tiles");
            Ok(blocks.swap_remove(0))
        })
        .collect()
}

/// The outcome of a split on a network.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Per image, the class: the output column of the largest code (the first on ties).
    pub classes: Vec<usize>,
    /// When kept, per layer after the first, per image, its ADC codes.
    pub codes: Vec<Vec<Vec<i64>>>,
}

/// The index of the largest code (the first on ties).
fn argmax(v: &[i64]) -> usize {
    v.iter()
        .enumerate()
        .fold((0, i64::MIN), |b, (i, &x)| if x > b.1 { (i, x) } else { b })
        .0
}

/// Runs every image from its first-layer codes `first` through `stages` (one per layer)
/// and the later layers' tiles; `keep` keeps the later layers' ADC codes.
pub fn run(
    net: &Network,
    stages: &[Stage],
    first: &[Vec<i64>],
    draws: u64,
    keep: bool,
) -> Result<Run> {
    ensure!(stages.len() == net.layers.len(), "one NMPU per layer");
    let per_image: Vec<(usize, Vec<Vec<i64>>)> = first
        .par_iter()
        .enumerate()
        .map(|(i, codes)| -> Result<(usize, Vec<Vec<i64>>)> {
            let mut kept = vec![];
            let mut codes = codes.clone();
            let mut out = vec![];
            for (l, stage) in stages.iter().enumerate() {
                out.resize(codes.len(), 0);
                stage.run(&codes, &mut out)?;
                if let Some(next) = net.layers.get(l + 1) {
                    codes = next
                        .tile
                        .mvm_draw(&out, draws + i as u64)
                        .map_err(|e| anyhow!("layer {}, image {i}: {e}", l + 1))?
                        .swap_remove(0);
                    if keep {
                        kept.push(codes.clone());
                    }
                }
            }
            Ok((argmax(&out), kept))
        })
        .collect::<Result<_>>()?;
    let layers = net.layers.len().saturating_sub(1);
    let mut codes: Vec<Vec<Vec<i64>>> = vec![Vec::new(); if keep { layers } else { 0 }];
    let mut classes = Vec::with_capacity(per_image.len());
    for (class, kept) in per_image {
        classes.push(class);
        for (l, c) in kept.into_iter().enumerate() {
            codes[l].push(c);
        }
    }
    Ok(Run { classes, codes })
}
