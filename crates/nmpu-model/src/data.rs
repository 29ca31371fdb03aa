//! The data a model runs on: rows of ADC codes and real coefficients, read from the files
//! the README documents (CSV, or NumPy `.npy` by the file's extension; see [`crate::npy`]).
//! Every row's shape is checked here, once, for every caller. (Synthetic data, when no
//! file is given, come from the tile model: `nmpu_tile::data`.)

use crate::coeffs::RealCoeffs;
use crate::error::ModelError;
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

/// The values of a CSV text, line by line (blank lines and `#` comments skipped), each
/// field parsed by `parse`; a field that does not parse is an error naming its line and
/// column and saying it is not `kind`.
fn csv_values<T>(
    text: &str,
    kind: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<(usize, Vec<T>)>, ModelError> {
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
                parse(f).ok_or_else(|| {
                    ModelError::Shape(format!("line {}, column {c}: `{f}` is not {kind}", i + 1))
                })
            })
            .collect::<Result<Vec<T>, _>>()?;
        rows.push((i + 1, row));
    }
    Ok(rows)
}

/// Every code of `row` within `in_bits`; `at` names the row in the message.
fn check_code_range(cfg: &NmpuConfig, row: &[i64], at: &str) -> Result<(), ModelError> {
    let lim = 1i64 << (cfg.in_bits - 1);
    match row.iter().enumerate().find(|(_, &x)| x < -lim || x >= lim) {
        None => Ok(()),
        Some((c, x)) => Err(ModelError::Shape(format!(
            "{at}, column {c}: ADC code {x} is outside the in_bits = {} range {} ..= {}",
            cfg.in_bits,
            -lim,
            lim - 1
        ))),
    }
}

/// Input CSV: one row of exactly `columns` integer ADC codes per line, each within the
/// `in_bits` range; blank lines and `#` comments are skipped.
pub fn parse_input(text: &str, cfg: &NmpuConfig) -> Result<Vec<Vec<i64>>, ModelError> {
    let mut rows = vec![];
    for (line, row) in csv_values(text, "an integer", |f| f.parse::<i64>().ok())? {
        check_code_range(cfg, &row, &format!("line {line}"))?;
        check_row(cfg, &row, &format!("line {line}"))?;
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(ModelError::Shape(
            "no input rows (the file is empty or only comments)".into(),
        ));
    }
    Ok(rows)
}

/// Every row `columns` codes long and every code within `in_bits`.
fn check_codes(rows: &[Vec<i64>], cfg: &NmpuConfig) -> Result<(), ModelError> {
    for (r, row) in rows.iter().enumerate() {
        check_row(cfg, row, &format!("row {r}"))?;
        check_code_range(cfg, row, &format!("row {r}"))?;
    }
    if rows.is_empty() {
        return Err(ModelError::Shape("no input rows".into()));
    }
    Ok(())
}

/// Rows of ADC codes: [`parse_input`] of a CSV file, or a `.npy` integer array of shape
/// (rows, columns) with the same checks.
pub fn load_input(path: &Path, cfg: &NmpuConfig) -> Result<Vec<Vec<i64>>, ModelError> {
    if crate::npy::is_npy(path) {
        let rows = crate::npy::read_codes(path)?;
        check_codes(&rows, cfg).map_err(|e| in_file(path, "input", e))?;
        return Ok(rows);
    }
    parse_input(&read(path, "input")?, cfg).map_err(|e| in_file(path, "input", e))
}

/// Rows of real values, each `columns` long: CSV (comma-separated numbers, `#` comments)
/// or a `.npy` float array of shape (rows, columns). `what` names them in errors.
pub fn load_reals(path: &Path, columns: usize, what: &str) -> Result<Vec<Vec<f64>>, ModelError> {
    let rows = if crate::npy::is_npy(path) {
        crate::npy::read_reals(path)?
    } else {
        let text = read(path, what)?;
        csv_values(&text, "a number", |f| f.parse::<f64>().ok())
            .map_err(|e| in_file(path, what, e))?
            .into_iter()
            .map(|(_, row)| row)
            .collect()
    };
    for (r, row) in rows.iter().enumerate() {
        if row.len() != columns {
            return Err(in_file(
                path,
                what,
                ModelError::Shape(format!(
                    "row {r}: {} values, the config has columns = {columns}",
                    row.len()
                )),
            ));
        }
    }
    if rows.is_empty() {
        return Err(in_file(path, what, ModelError::Shape("no rows".into())));
    }
    Ok(rows)
}

/// Coefficients: the CSV `column,a,b,g,h`, or a `.npy` float array of shape (columns, 4)
/// holding a, b, g, h per row; checked against `cfg`.
pub fn load_coeffs(path: &Path, cfg: &NmpuConfig) -> Result<RealCoeffs, ModelError> {
    let real = if crate::npy::is_npy(path) {
        let rows = crate::npy::read_reals(path)?;
        if let Some(r) = rows.iter().position(|r| r.len() != 4) {
            return Err(in_file(
                path,
                "coefficient",
                ModelError::Shape(format!(
                    "row {r} has {} values; expected shape (columns, 4): a, b, g, h per column",
                    rows[r].len()
                )),
            ));
        }
        RealCoeffs {
            a: rows.iter().map(|r| r[0]).collect(),
            b: rows.iter().map(|r| r[1]).collect(),
            g: rows.iter().map(|r| r[2]).collect(),
            h: rows.iter().map(|r| r[3]).collect(),
        }
    } else {
        let text = read(path, "coefficient")?;
        RealCoeffs::from_csv(&text).map_err(|e| in_file(path, "coefficient", e))?
    };
    real.check(cfg)
        .map_err(|e| in_file(path, "coefficient", e))?;
    Ok(real)
}

fn write_text(path: &Path, text: &str) -> Result<(), ModelError> {
    std::fs::write(path, text).map_err(|e| ModelError::File {
        path: path.display().to_string(),
        message: format!("cannot write {}: {e}", path.display()),
    })
}

/// Rows of codes to `path`: `.npy` (int64) or CSV.
pub fn write_codes(path: &Path, rows: &[Vec<i64>]) -> Result<(), ModelError> {
    if crate::npy::is_npy(path) {
        return crate::npy::write_codes(path, rows);
    }
    write_text(path, &rows_to_csv(rows))
}

/// Rows of real values to `path`: `.npy` (float64) or CSV (values that read back exactly).
pub fn write_reals(path: &Path, rows: &[Vec<f64>]) -> Result<(), ModelError> {
    if crate::npy::is_npy(path) {
        return crate::npy::write_reals(path, rows);
    }
    let text: String = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| format!("{v:?}"))
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    write_text(path, &text)
}

/// Coefficients to `path`: `.npy` (float64, shape (columns, 4)) or CSV.
pub fn write_coeffs(path: &Path, k: &RealCoeffs) -> Result<(), ModelError> {
    if crate::npy::is_npy(path) {
        let rows: Vec<Vec<f64>> = (0..k.columns())
            .map(|c| vec![k.a[c], k.b[c], k.g[c], k.h[c]])
            .collect();
        return crate::npy::write_reals(path, &rows);
    }
    write_text(path, &k.to_csv())
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

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    /// The same checks on a NumPy array as on a CSV file; coefficients and codes written
    /// as .npy read back.
    #[test]
    fn npy_inputs_and_coefficients() {
        let narrow = NmpuConfig::from_toml_str("columns = 4\nlanes = 1\nin_bits = 8").unwrap();
        let rows = load_input(&fixture("codes_int16.npy"), &narrow).unwrap();
        assert_eq!(rows[0], vec![-128, 0, 5, 127]);
        let seven = NmpuConfig::from_toml_str("columns = 4\nlanes = 1\nin_bits = 7").unwrap();
        let e = load_input(&fixture("codes_int8.npy"), &seven)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("row 0, column 0: ADC code -128 is outside the in_bits = 7"),
            "{e}"
        );
        assert!(
            e.starts_with("input file ") && e.contains("codes_int8.npy"),
            "{e}"
        );
        let dir = std::env::temp_dir().join(format!("nmpu-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let k = RealCoeffs {
            a: vec![1.0, 0.5, 0.25, 2.0],
            b: vec![0.0, -1.0, 3.5, 7.0],
            g: vec![0.01; 4],
            h: vec![-2.0; 4],
        };
        for name in ["k.npy", "k.csv"] {
            write_coeffs(&dir.join(name), &k).unwrap();
            assert_eq!(load_coeffs(&dir.join(name), &cfg()).unwrap(), k, "{name}");
        }
        write_codes(&dir.join("x.npy"), &rows).unwrap();
        assert_eq!(load_input(&dir.join("x.npy"), &narrow).unwrap(), rows);
        std::fs::write(dir.join("r.csv"), "# y\n0.5, -1, 2e3, 4\n1,2,3,4\n").unwrap();
        let r = load_reals(&dir.join("r.csv"), 4, "reference").unwrap();
        assert_eq!(r[0], vec![0.5, -1.0, 2000.0, 4.0]);
        let e = load_reals(&dir.join("r.csv"), 5, "reference")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("row 0: 4 values, the config has columns = 5"),
            "{e}"
        );
        let e = load_coeffs(&fixture("reals_float64.npy"), &cfg())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("expected shape (columns, 4)") || e.contains("has 2 columns"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
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
