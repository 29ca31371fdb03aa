//! The accuracy budget on the digits: the answer is the cheapest config the accuracy
//! accepted, its verdict agrees with a paired accuracy computed on another path, and the
//! test-set check is the paired drop on unseen seeds.

use nmpu_config::NmpuConfig;
use nmpu_net::accuracy::{accuracy_on, Setup};
use nmpu_net::analog::VALIDATION_DRAWS;
use nmpu_net::data::Which;
use nmpu_net::train::cache_dir;
use nmpu_net::tune::{tune, Tuning, MARGIN};
use nmpu_net::tune_report::{confirmation, judged_csv, summary, tuned_toml};

#[test]
fn the_accuracy_search_answers_with_the_cheapest_accepted_config() {
    let cfg = NmpuConfig::default();
    let s = Setup::new(Which::Digits, &cfg, &cache_dir(), &|_, _| {}).unwrap();
    let budget = 0.5;
    let t = Tuning::new(&s, &cfg, budget, &[1, 2, 3, 4], MARGIN, &|_| {}).unwrap();
    let o = tune(&t, &nmpu_tune::cost::shipped(), &[101, 102], &|_| {}).unwrap();
    let best = o.best().expect("an answer");
    assert!(best.accuracy.meets && best.accuracy.usage <= 1.0);
    assert!(best.area < o.base.area, "{} vs {}", best.area, o.base.area);
    for j in &o.judged {
        let a = &j.accuracy;
        let usage = (a.mean + MARGIN * a.se) / (budget / 100.0);
        assert!((a.usage - usage).abs() < 1e-9);
        assert_eq!(a.meets, a.usage <= 1.0);
        assert!(
            (a.mean - a.drops.iter().sum::<f64>() / a.drops.len() as f64).abs() < 1e-12,
            "the mean is the seeds' mean"
        );
        if j.area < best.area {
            assert!(!a.meets, "a cheaper accepted config: {}", j.formats);
        }
    }
    // The verdict's per-seed drops against `nmpu accuracy`'s paired figures on the same
    // images and draws, computed on their own path.
    let r = accuracy_on(
        &s,
        &best.config,
        &s.data.validation,
        VALIDATION_DRAWS,
        &[1, 2, 3, 4],
        &|_| {},
    )
    .unwrap();
    for (k, p) in r.paired.per_seed.iter().enumerate() {
        assert!(
            (p.diff + best.accuracy.drops[k]).abs() < 1e-12,
            "seed {}",
            p.seed
        );
    }
    let h = o.holdout.as_ref().expect("a test-set check");
    assert_eq!(h.seeds, vec![101, 102]);
    let mean = h.fp16.iter().zip(&h.fixed).map(|(a, b)| a - b).sum::<f64>() / 2.0;
    assert!((h.mean - mean).abs() < 1e-12);
    assert_eq!(h.holds, h.mean <= budget / 100.0);
    let toml = tuned_toml(&o).unwrap();
    let back = NmpuConfig::from_toml_str(&toml).unwrap();
    assert_eq!(back, best.config);
    assert_eq!(judged_csv(&o).lines().count(), o.judged.len() + 1);
    assert!(summary(&o, "default").contains("tuned: "));
    let (jobs, others) = confirmation(&o, &cfg, 3);
    assert_eq!(jobs.len(), 3 + others.len());
    assert_eq!(jobs[0].config, best.config);
    // Deterministic: the verdict again.
    assert_eq!(t.verdict(&best.config).unwrap(), best.accuracy);
}
