//! The data a model runs on: rows of ADC codes and real coefficients, read from the files
//! the README documents or drawn from the seeded synthetic tile. Every row's shape is
//! checked here, once, for every caller.

use crate::coeffs::RealCoeffs;
use crate::error::ModelError;
use crate::synthetic::TileModel;
use nmpu_config::NmpuConfig;
use std::path::Path;

/// A row of ADC codes must hold one code per column; `at` names the row in the message.
pub fn check_row(cfg: &NmpuConfig, row: &[i64], at: &str) -> Result<(), ModelError> {
    if row.len() == cfg.columns as usize {
        return Ok(());
    }
    Err(ModelError::Shape(format!(
        "{at}: {} codes, the config has columns = {}",
        row.len(),
        cfg.columns
    )))
}

/// [`check_row`] on every row (named `input row R`).
pub fn check_rows(cfg: &NmpuConfig, rows: &[Vec<i64>]) -> Result<(), ModelError> {
    for (r, row) in rows.iter().enumerate() {
        check_row(cfg, row, &format!("input row {r}"))?;
    }
    Ok(())
}

fn read(path: &Path, what: &str) -> Result<String, ModelError> {
    std::fs::read_to_string(path).map_err(|e| ModelError::File {
        path: path.display().to_string(),
        message: format!("cannot read {what} file {}: {e}", path.display()),
    })
}

fn in_file(path: &Path, what: &str, e: ModelError) -> ModelError {
    ModelError::File {
        path: path.display().to_string(),
        message: format!("{what} file {}: {e}", path.display()),
    }
}

/// Input CSV: one row of exactly `columns` integer ADC codes per line, each within the
/// `in_bits` range; blank lines and `#` comments are skipped.
pub fn parse_input(text: &str, cfg: &NmpuConfig) -> Result<Vec<Vec<i64>>, ModelError> {
    let lim = 1i64 << (cfg.in_bits - 1);
    let mut rows = vec![];
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let row = line
            .split(',')
            .enumerate()
            .map(|(c, f)| {
                let f = f.trim();
                let at = || format!("line {}, column {c}", i + 1);
                let x: i64 = f
                    .parse()
                    .map_err(|_| ModelError::Shape(format!("{}: `{f}` is not an integer", at())))?;
                if x < -lim || x >= lim {
                    return Err(ModelError::Shape(format!(
                        "{}: ADC code {x} is outside the in_bits = {} range {} ..= {}",
                        at(),
                        cfg.in_bits,
                        -lim,
                        lim - 1
                    )));
                }
                Ok(x)
            })
            .collect::<Result<Vec<i64>, _>>()?;
        check_row(cfg, &row, &format!("line {}", i + 1))?;
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(ModelError::Shape(
            "no input rows (the file is empty or only comments)".into(),
        ));
    }
    Ok(rows)
}

/// [`parse_input`] of a file.
pub fn load_input(path: &Path, cfg: &NmpuConfig) -> Result<Vec<Vec<i64>>, ModelError> {
    parse_input(&read(path, "input")?, cfg).map_err(|e| in_file(path, "input", e))
}

/// A coefficient CSV (`column,a,b,g,h`), checked against `cfg`.
pub fn load_coeffs(path: &Path, cfg: &NmpuConfig) -> Result<RealCoeffs, ModelError> {
    let text = read(path, "coefficient")?;
    let real = RealCoeffs::from_csv(&text).map_err(|e| in_file(path, "coefficient", e))?;
    real.check(cfg)
        .map_err(|e| in_file(path, "coefficient", e))?;
    Ok(real)
}

/// Coefficients and rows of ADC codes, with a description of where each came from.
pub struct Data {
    pub coeffs: RealCoeffs,
    pub rows: Vec<Vec<i64>>,
    pub coeffs_source: String,
    pub rows_source: String,
}

/// The files when given, else the synthetic tile of `rows` rows and `seed` (its
/// coefficients are those of the tile's calibration).
pub fn load_data(
    cfg: &NmpuConfig,
    coeffs: Option<&Path>,
    input: Option<&Path>,
    rows: usize,
    seed: u64,
) -> Result<Data, ModelError> {
    if rows == 0 {
        return Err(ModelError::Shape("--rows must be at least 1".into()));
    }
    let tile = TileModel::default().generate(cfg, if input.is_some() { 0 } else { rows }, seed);
    let synthetic = format!("synthetic, seed {seed}");
    Ok(Data {
        coeffs: match coeffs {
            Some(p) => load_coeffs(p, cfg)?,
            None => tile.coeffs,
        },
        rows: match input {
            Some(p) => load_input(p, cfg)?,
            None => tile.rows,
        },
        coeffs_source: coeffs.map_or(synthetic.clone(), |p| p.display().to_string()),
        rows_source: input.map_or(synthetic, |p| p.display().to_string()),
    })
}

/// Rows as CSV, one line per row.
pub fn rows_to_csv(rows: &[Vec<i64>]) -> String {
    let mut s = String::new();
    for r in rows {
        let line: Vec<String> = r.iter().map(i64::to_string).collect();
        s += &line.join(",");
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> NmpuConfig {
        NmpuConfig::from_toml_str("columns = 4\nlanes = 1\n").unwrap()
    }

    #[test]
    fn input_rows_are_read_with_comments_and_blank_lines() {
        let rows = parse_input("# x\n1,2,3,4\n\n-4096, 4095 ,0,0\n", &cfg()).unwrap();
        assert_eq!(rows, vec![vec![1, 2, 3, 4], vec![-4096, 4095, 0, 0]]);
        assert_eq!(parse_input(&rows_to_csv(&rows), &cfg()).unwrap(), rows);
    }

    #[test]
    fn bad_input_names_line_and_column() {
        let e = |t: &str| parse_input(t, &cfg()).unwrap_err().to_string();
        assert_eq!(e("1,2,3\n"), "line 1: 3 codes, the config has columns = 4");
        assert!(e("\n0,0,4096,0\n").starts_with("line 2, column 2: ADC code 4096"));
        assert!(e("0,x,0,0").contains("`x` is not an integer"));
        assert!(e("# only\n").contains("no input rows"));
        let r = check_rows(&cfg(), &[vec![0; 4], vec![0; 5]]).unwrap_err();
        assert_eq!(
            r.to_string(),
            "input row 1: 5 codes, the config has columns = 4"
        );
    }

    #[test]
    fn a_missing_file_says_which() {
        let e = load_input(Path::new("/nonexistent/x.csv"), &cfg()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot read input file /nonexistent/x.csv"),
            "{e}"
        );
    }
}
