//! A working directory for a tool run: the user's (`--work`: created, kept for
//! inspection) or a fresh temporary one, removed when the value is dropped.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

pub struct WorkDir {
    path: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl WorkDir {
    /// `user` when given (created if missing), else a new temporary directory whose name
    /// starts with `nmpu-<purpose>-`.
    pub fn new(user: Option<&Path>, purpose: &str) -> Result<WorkDir> {
        match user {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                Ok(WorkDir {
                    path: dir.to_path_buf(),
                    _temp: None,
                })
            }
            None => {
                let temp = tempfile::Builder::new()
                    .prefix(&format!("nmpu-{purpose}-"))
                    .tempdir()
                    .context("cannot create a temporary directory")?;
                Ok(WorkDir {
                    path: temp.path().to_path_buf(),
                    _temp: Some(temp),
                })
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A subdirectory, created.
    pub fn sub(&self, name: &str) -> Result<PathBuf> {
        let d = self.path.join(name);
        std::fs::create_dir_all(&d).with_context(|| format!("cannot create {}", d.display()))?;
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_directory_goes_and_the_users_stays() {
        let t = WorkDir::new(None, "test").unwrap();
        let p = t.sub("a").unwrap();
        assert!(p.is_dir());
        let root = t.path().to_path_buf();
        drop(t);
        assert!(!root.exists());
        let user = tempfile::tempdir().unwrap();
        let dir = user.path().join("work");
        drop(WorkDir::new(Some(&dir), "test").unwrap());
        assert!(dir.is_dir());
    }
}
