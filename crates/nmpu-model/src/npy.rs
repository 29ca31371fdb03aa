//! NumPy `.npy` files for the data the CSV files hold: 2-D arrays, C order, little-endian;
//! integer codes (int8, int16, int32, int64) and real values (float32, float64). Anything
//! else (another dtype, another rank, Fortran order, big-endian) is an error that says
//! what was found and how to save it instead.

use crate::error::ModelError;
use npyz::{DType, Endianness, NpyFile, TypeChar, WriterBuilder};
use std::io::BufReader;
use std::path::Path;

/// Whether `path` names a `.npy` file (by its extension).
pub fn is_npy(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

fn err(path: &Path, message: impl std::fmt::Display) -> ModelError {
    ModelError::File {
        path: path.display().to_string(),
        message: format!("{}: {message}", path.display()),
    }
}

/// An array whose header passed the checks: its reader, columns and element size.
struct Opened {
    npy: NpyFile<BufReader<std::fs::File>>,
    columns: usize,
    size: u64,
}

/// The array's header checked: 2-D, C order, little-endian, of kind `want` (`Int` or
/// `Float`).
fn open(path: &Path, want: TypeChar) -> Result<Opened, ModelError> {
    let file = std::fs::File::open(path).map_err(|e| err(path, format!("cannot read: {e}")))?;
    let npy = NpyFile::new(BufReader::new(file))
        .map_err(|e| err(path, format!("not a .npy file: {e}")))?;
    let what = match want {
        TypeChar::Int => "integer codes (int8, int16, int32 or int64)",
        _ => "real values (float32 or float64)",
    };
    let DType::Plain(ts) = npy.dtype() else {
        return Err(err(path, format!("a structured array; expected {what}")));
    };
    let sizes: &[u64] = if want == TypeChar::Int {
        &[1, 2, 4, 8]
    } else {
        &[4, 8]
    };
    if ts.type_char() != want || !sizes.contains(&ts.size_field()) {
        return Err(err(
            path,
            format!("dtype {ts}; expected {what}: save with a.astype(...)"),
        ));
    }
    if ts.endianness() == Endianness::Big && ts.size_field() > 1 {
        return Err(err(
            path,
            format!(
                "dtype {ts} is big-endian: save with a.astype('<{}{}')",
                if want == TypeChar::Int { 'i' } else { 'f' },
                ts.size_field()
            ),
        ));
    }
    if npy.order() != npyz::Order::C {
        return Err(err(
            path,
            "Fortran order: save with np.ascontiguousarray(a)",
        ));
    }
    let shape = npy.shape().to_vec();
    let [_, columns] = shape[..] else {
        return Err(err(
            path,
            format!("shape {shape:?}; expected a 2-D array (rows, columns)"),
        ));
    };
    Ok(Opened {
        size: ts.size_field(),
        npy,
        columns: columns as usize,
    })
}

fn rows_of<T>(data: Vec<T>, columns: usize) -> Vec<Vec<T>>
where
    T: Clone,
{
    if columns == 0 {
        return vec![];
    }
    data.chunks(columns).map(<[T]>::to_vec).collect()
}

/// A 2-D integer array as rows.
pub fn read_codes(path: &Path) -> Result<Vec<Vec<i64>>, ModelError> {
    let Opened { npy, columns, size } = open(path, TypeChar::Int)?;
    let io = |e: std::io::Error| err(path, e);
    let data: Vec<i64> = match size {
        1 => npy
            .into_vec::<i8>()
            .map_err(io)?
            .into_iter()
            .map(i64::from)
            .collect(),
        2 => npy
            .into_vec::<i16>()
            .map_err(io)?
            .into_iter()
            .map(i64::from)
            .collect(),
        4 => npy
            .into_vec::<i32>()
            .map_err(io)?
            .into_iter()
            .map(i64::from)
            .collect(),
        _ => npy.into_vec::<i64>().map_err(io)?,
    };
    Ok(rows_of(data, columns))
}

/// A 2-D float array as rows.
pub fn read_reals(path: &Path) -> Result<Vec<Vec<f64>>, ModelError> {
    let Opened { npy, columns, size } = open(path, TypeChar::Float)?;
    let io = |e: std::io::Error| err(path, e);
    let data: Vec<f64> = match size {
        4 => npy
            .into_vec::<f32>()
            .map_err(io)?
            .into_iter()
            .map(f64::from)
            .collect(),
        _ => npy.into_vec::<f64>().map_err(io)?,
    };
    Ok(rows_of(data, columns))
}

fn write<T: npyz::AutoSerialize + Copy>(path: &Path, rows: &[Vec<T>]) -> Result<(), ModelError> {
    let columns = rows.first().map_or(0, Vec::len);
    if rows.iter().any(|r| r.len() != columns) {
        return Err(err(path, "rows of different lengths"));
    }
    let io = |e: std::io::Error| err(path, format!("cannot write: {e}"));
    let file = std::fs::File::create(path).map_err(io)?;
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[rows.len() as u64, columns as u64])
        .writer(std::io::BufWriter::new(file))
        .begin_nd()
        .map_err(io)?;
    w.extend(rows.iter().flatten().copied()).map_err(io)?;
    w.finish().map_err(io)
}

/// Rows of codes as an int64 array.
pub fn write_codes(path: &Path, rows: &[Vec<i64>]) -> Result<(), ModelError> {
    write(path, rows)
}

/// Rows of real values as a float64 array.
pub fn write_reals(path: &Path, rows: &[Vec<f64>]) -> Result<(), ModelError> {
    write(path, rows)
}
