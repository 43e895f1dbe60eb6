//! A scratch copy of the workspace, for checks that change files: an exercise's solution applied,
//! a learner's file replaced. The copy has what git tracks and the new files it does not ignore,
//! and none of `target/`: point `CARGO_TARGET_DIR` at the original's to reuse its builds.
//!
//! One trap with that reuse: cargo names a workspace crate's build after its path *relative to the
//! workspace*, so the copy's crates and the original's share one build in a shared target, and
//! cargo decides by modification times whether it is fresh. For crates whose files are the same in
//! both that is harmless. A crate whose files differ (the exercises, with solutions in one copy
//! and not in the other) must be renamed in the copy ([`rename_package`]), or one copy's check can
//! run the other copy's code. And a build made from the copy remembers the copy's files: while
//! they exist and are older than the build, cargo takes that build as fresh for the original too,
//! even after the original changed. So a copy is a [`Scratch`], removed when dropped: with its
//! files gone, cargo builds the original's crates again from the original's files.

use std::path::Path;
use std::process::Command;

use crate::HarnessError;
use crate::error::Context;

/// A scratch copy of a workspace, removed when dropped (see the module's note on why).
pub struct Scratch {
    dir: std::path::PathBuf,
}

impl Scratch {
    /// Copies the workspace at `root` to `to`, replacing whatever `to` held.
    pub fn copy(root: &Path, to: &Path) -> Result<Self, HarnessError> {
        copy_workspace(root, to)?;
        Ok(Self { dir: to.to_owned() })
    }

    /// Where the copy is.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_dir_all(&self.dir) {
            eprintln!(
                "harness: could not remove the scratch copy {}: {error}",
                self.dir.display()
            );
        }
    }
}

fn copy_workspace(root: &Path, to: &Path) -> Result<(), HarnessError> {
    let listed = Command::new("git")
        .current_dir(root)
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .output()
        .context(|| "listing the workspace's files with git".to_owned())?;
    if !listed.status.success() {
        return Err(HarnessError::Other(format!(
            "git ls-files failed in {}: {}",
            root.display(),
            String::from_utf8_lossy(&listed.stderr).trim()
        )));
    }
    if to.exists() {
        std::fs::remove_dir_all(to).context(|| format!("removing the old {}", to.display()))?;
    }
    for file in listed.stdout.split(|byte| *byte == 0).filter(|name| !name.is_empty()) {
        let relative = Path::new(std::str::from_utf8(file).map_err(|e| HarnessError::Other(e.to_string()))?);
        let from = root.join(relative);
        if !from.is_file() {
            continue; // deleted in the work tree, still in the index
        }
        let destination = to.join(relative);
        if let Some(parent) = destination.parent() {
            std::fs::create_dir_all(parent).context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::copy(&from, &destination).context(|| format!("copying {}", relative.display()))?;
    }
    Ok(())
}

/// Renames the package whose manifest is in `dir` to `<name>-<suffix>`, keeping its library's
/// name (so that `use` paths still work), and returns the new name. See the module's note.
pub fn rename_package(dir: &Path, suffix: &str) -> Result<String, HarnessError> {
    let path = dir.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&path).context(|| format!("reading {}", path.display()))?;
    let name = manifest
        .lines()
        .find_map(|line| line.strip_prefix("name = \"")?.strip_suffix('"'))
        .ok_or_else(|| HarnessError::Other(format!("no package name in {}", path.display())))?
        .to_owned();
    if manifest.lines().any(|line| line.trim() == "[lib]") {
        return Err(HarnessError::Other(format!(
            "{} has a [lib] section already; rename_package adds its own",
            path.display()
        )));
    }
    let renamed = format!("{name}-{suffix}");
    let manifest = manifest.replacen(&format!("name = \"{name}\""), &format!("name = \"{renamed}\""), 1)
        + &format!("\n[lib]\nname = \"{}\"\n", name.replace('-', "_"));
    std::fs::write(&path, manifest).context(|| format!("writing {}", path.display()))?;
    Ok(renamed)
}
