//! The cycle model of the PWM driver against its transaction-level definition: every
//! vector that is loaded and started drives each row for exactly |x| * cycles_per_lsb
//! cycles (in the phase of its sign in two-phase mode), with the sign line set for negative
//! codes, within one drive period, in the order the vectors arrived.

use nmpu_config::NmpuConfig;
use nmpu_model::dac::{DacIn, PwmDac};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

fn run(cfg: &NmpuConfig, seed: u64, p_valid: f64, p_start: f64) -> usize {
    let d = cfg.dac;
    let (rows, lanes) = (d.rows as usize, d.lanes as usize);
    let half = 1i64 << (d.bits - 1);
    let period = cfg.dac_period() as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut m = PwmDac::new(cfg);
    let mut sent: Vec<i64> = vec![];
    let mut queued: VecDeque<Vec<i64>> = VecDeque::new();
    // The drive in progress: its codes, cycles seen, enable counts per phase, sign errors.
    let mut drive: Option<(Vec<i64>, usize, Vec<[u64; 2]>)> = None;
    let mut drives = 0;
    m.step(&DacIn {
        reset: true,
        ..DacIn::default()
    });
    for _ in 0..50_000 {
        let beat: Vec<i64> = (0..lanes)
            .map(|_| match rng.random_range(0..5) {
                0 => -half,
                1 => half - 1,
                2 => 0,
                _ => rng.random_range(-half..half),
            })
            .collect();
        let i = DacIn {
            reset: false,
            s_valid: rng.random_bool(p_valid),
            s_x: beat.clone(),
            start: rng.random_bool(p_start),
        };
        let o = m.step(&i);
        if o.done {
            // Right after a drive: idle, or the first cycle of the next one.
            assert!(
                drive.as_ref().is_none_or(|d| d.1 == 0),
                "done during a drive"
            );
        }
        if let Some((x, seen, counts)) = drive.as_mut() {
            for r in 0..rows {
                assert_eq!(o.sign[r], x[r] < 0, "sign of row {r}");
                let phase = usize::from(d.two_phase && *seen >= period / 2);
                counts[r][phase] += u64::from(o.en[r]);
            }
            *seen += 1;
            if *seen == period {
                let (x, _, counts) = drive.take().unwrap();
                for r in 0..rows {
                    let want = x[r].unsigned_abs() * u64::from(d.cycles_per_lsb);
                    let got = counts[r][0] + counts[r][1];
                    assert_eq!(got, want, "row {r}, x = {}", x[r]);
                    if d.two_phase {
                        assert_eq!(
                            counts[r][usize::from(x[r] > 0)],
                            0,
                            "row {r} in the wrong phase"
                        );
                    }
                }
                drives += 1;
            }
        } else {
            assert!(o.en.iter().all(|&e| !e), "enable outside a drive");
        }
        if i.s_valid && o.s_ready {
            sent.extend(&beat);
            if sent.len() == rows {
                queued.push_back(std::mem::take(&mut sent));
            }
        }
        if i.start && o.start_ready {
            assert!(
                drive.is_none(),
                "a start while driving (not in the last cycle)"
            );
            let x = queued.pop_front().expect("a start with no loaded vector");
            drive = Some((x, 0, vec![[0; 2]; rows]));
        }
    }
    drives
}

#[test]
fn every_drive_is_exactly_its_codes() {
    let mut cfg = NmpuConfig::from_toml_str("[dac]\nrows = 12\nlanes = 4\nbits = 5").unwrap();
    assert!(run(&cfg, 1, 0.7, 0.5) > 500);
    cfg.dac.two_phase = true;
    cfg.dac.cycles_per_lsb = 3;
    assert!(run(&cfg, 2, 0.5, 0.9) > 200);
    cfg.dac.cycles_per_lsb = 1;
    cfg.dac.bits = 2;
    cfg.dac.lanes = 12;
    assert!(run(&cfg, 3, 0.9, 0.9) > 2000);
}

#[test]
fn back_to_back_drives_leave_no_gap() {
    let cfg = NmpuConfig::from_toml_str("[dac]\nrows = 4\nlanes = 4\nbits = 4").unwrap();
    let mut m = PwmDac::new(&cfg);
    let all = DacIn {
        s_valid: true,
        s_x: vec![-8, -8, -8, -8],
        start: true,
        ..DacIn::default()
    };
    let outs: Vec<_> = (0..100).map(|_| m.step(&all)).collect();
    // Rows at -8 are enabled in every cycle of every drive once the first starts.
    let first = outs.iter().position(|o| o.en[0]).unwrap();
    assert!(outs[first..].iter().all(|o| o.en.iter().all(|&e| e)));
    assert_eq!(outs.iter().filter(|o| o.done).count(), (100 - first) / 8);
}
