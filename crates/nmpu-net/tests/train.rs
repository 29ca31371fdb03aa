//! Training on the digits: deterministic, cached, the exported network classifies as candle
//! does, and it is accurate.

use nmpu_net::data::digits;
use nmpu_net::train::{candle_predictions, train, trained, TrainOptions};

fn options() -> TrainOptions {
    TrainOptions {
        hidden: vec![64, 64],
        epochs: 30,
        batch: 64,
        ..TrainOptions::default()
    }
}

#[test]
fn digits_train_deterministically_and_export_exactly() {
    let d = digits().unwrap();
    let a = train(&d, &options(), &|_, _| {}).unwrap();
    let b = train(&d, &options(), &|_, _| {}).unwrap();
    assert_eq!(a, b, "the same seed gives the same weights");
    let acc = a.accuracy(&d.test);
    eprintln!("digits test accuracy {acc:.4}");
    assert!(acc > 0.93, "test accuracy {acc}");
    let ours: Vec<usize> = (0..d.test.len())
        .map(|i| a.predict(d.test.image(i)))
        .collect();
    assert_eq!(ours, candle_predictions(&a, &d.test).unwrap());
    let dir = tempdir();
    let (first, cached) = trained(&d, &options(), &dir, &|_, _| {}).unwrap();
    assert!(!cached);
    let (again, cached) = trained(&d, &options(), &dir, &|_, _| {}).unwrap();
    assert!(cached);
    assert_eq!(first, again);
    assert_eq!(first, a);
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("nmpu-net-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
