//! Independent tool runs on every core: Yosys and ABC use one core each.

use anyhow::{Context, Result};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Workers for tool jobs: `$NMPU_JOBS` when set to a positive number, else the cores
/// this process may use.
pub fn cores() -> usize {
    std::env::var("NMPU_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Runs `job` on every element of `jobs`, [`cores`] at a time, and returns the results
/// in the order of `jobs` (the first error, in that order, when any failed).
pub fn parallel<J: Sync, R: Send>(
    jobs: &[J],
    job: impl Fn(usize, &J) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let next = AtomicUsize::new(0);
    let results = std::sync::Mutex::new((0..jobs.len()).map(|_| None).collect::<Vec<_>>());
    std::thread::scope(|scope| {
        for _ in 0..cores().min(jobs.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(j) = jobs.get(i) else { break };
                let r = job(i, j);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.context("a job did not run")?)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_order_and_errors_pass_through() {
        let got = parallel(&[3, 1, 2], |i, &j| Ok(i * 10 + j)).unwrap();
        assert_eq!(got, vec![3, 11, 22]);
        let e = parallel(&[1, 2], |_, &j| {
            anyhow::ensure!(j != 2, "job {j} failed");
            Ok(j)
        });
        assert_eq!(e.unwrap_err().to_string(), "job 2 failed");
        assert!(parallel(&[] as &[u8], |_, _| Ok(())).unwrap().is_empty());
    }
}
