//! .npy files written by NumPy itself (tests/fixtures/make_npy.py) read back exactly, in
//! every supported dtype; what is not supported is a clear error; written files read back.

use nmpu_model::npy::{read_codes, read_reals, write_codes, write_reals};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn numpy_arrays_of_every_supported_dtype_read_exactly() {
    let codes = vec![
        vec![-128, 0, 5, 127],
        vec![1, -1, 100, -100],
        vec![7, 8, 9, 10],
    ];
    for t in ["int8", "int16", "int32", "int64"] {
        assert_eq!(
            read_codes(&fixture(&format!("codes_{t}.npy"))).unwrap(),
            codes,
            "{t}"
        );
    }
    let reals = vec![vec![0.5, -1.25, 3.0, 1e-3], vec![2.0, 0.0, -7.5, 1e6]];
    assert_eq!(read_reals(&fixture("reals_float64.npy")).unwrap(), reals);
    let f32s = read_reals(&fixture("reals_float32.npy")).unwrap();
    assert_eq!(f32s[1], vec![2.0, 0.0, -7.5, 1e6]);
    assert_eq!(f32s[0][3], f64::from(1e-3f32));
}

#[test]
fn unsupported_arrays_say_what_they_are() {
    let e = |name: &str| read_codes(&fixture(name)).unwrap_err().to_string();
    assert!(e("codes_fortran.npy").contains("Fortran order: save with np.ascontiguousarray(a)"));
    assert!(e("codes_big_endian.npy").contains("big-endian"));
    assert!(e("codes_1d.npy").contains("shape [4]; expected a 2-D array"));
    assert!(e("codes_uint8.npy").contains("expected integer codes"));
    assert!(e("reals_float64.npy").contains("expected integer codes"));
    let r = read_reals(&fixture("codes_int64.npy"))
        .unwrap_err()
        .to_string();
    assert!(
        r.contains("expected real values (float32 or float64)"),
        "{r}"
    );
    assert!(read_codes(&fixture("make_npy.py"))
        .unwrap_err()
        .to_string()
        .contains("not a .npy file"));
    assert!(read_codes(&fixture("missing.npy"))
        .unwrap_err()
        .to_string()
        .contains("cannot read"));
}

#[test]
fn written_arrays_read_back() {
    let dir = std::env::temp_dir().join(format!("nmpu-npy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let codes = vec![vec![i64::MIN, 0, i64::MAX], vec![1, 2, 3]];
    write_codes(&dir.join("c.npy"), &codes).unwrap();
    assert_eq!(read_codes(&dir.join("c.npy")).unwrap(), codes);
    let reals = vec![vec![0.1, f64::MAX], vec![-0.0, 1e-300]];
    write_reals(&dir.join("r.npy"), &reals).unwrap();
    assert_eq!(read_reals(&dir.join("r.npy")).unwrap(), reals);
    // NumPy's own header: a version 1.0 file with the little-endian int64 dtype.
    let bytes = std::fs::read(dir.join("c.npy")).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    assert!(String::from_utf8_lossy(&bytes[..128]).contains("'descr': '<i8'"));
    let _ = std::fs::remove_dir_all(&dir);
}
