//! Scratch copies of a workspace (`harness::scratch`), made of a small git repository of the
//! test's own: what is copied, what is not, and that a copy is gone when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

use harness::scratch::{Scratch, rename_package};

/// A directory of this test's own under the system's temporary directory, emptied first.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wb-scratch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn git(dir: &Path, args: &[&str]) {
    let done = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .status()
        .unwrap();
    assert!(done.success(), "git {args:?}");
}

/// A repository with a committed file, a committed file deleted since, a new file and an ignored
/// one.
fn repository(name: &str) -> PathBuf {
    let root = fresh_dir(name);
    write(&root.join(".gitignore"), "target/\n");
    write(&root.join("src/lib.rs"), "pub fn shipped() {}\n");
    write(&root.join("gone.txt"), "deleted after the commit\n");
    git(&root, &["init", "-q"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-qm", "shipped"]);
    std::fs::remove_file(root.join("gone.txt")).unwrap();
    write(&root.join("src/new.rs"), "pub fn added() {}\n");
    write(&root.join("target/build.log"), "ignored\n");
    root
}

#[test]
fn a_copy_has_the_tracked_and_new_files_but_not_the_ignored_or_deleted_and_goes_when_dropped() {
    let root = repository("copy");
    let to = fresh_dir("copy-to");
    write(&to.join("stale.txt"), "left by an earlier copy\n");

    let copy = Scratch::copy(&root, &to).unwrap();

    let has = |relative: &str| copy.path().join(relative).exists();
    assert!(has("src/lib.rs") && has("src/new.rs") && has(".gitignore"));
    assert!(!has("target/build.log"), "ignored files are not copied");
    assert!(!has("gone.txt"), "a file deleted in the work tree is not copied");
    assert!(!has("stale.txt"), "what the destination held before is replaced");
    drop(copy);
    assert!(!to.exists(), "a dropped copy is removed");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_directory_that_is_no_git_work_tree_is_refused_saying_why() {
    let not_git = fresh_dir("not-git");
    let refused = Scratch::copy(&not_git, &not_git.join("copy"));
    let error = refused.err().expect("no files can be listed outside git");
    assert!(error.to_string().contains("git ls-files failed"), "{error}");
    std::fs::remove_dir_all(not_git).unwrap();
}

#[test]
fn a_renamed_package_keeps_its_library_name_and_a_manifest_it_cannot_rename_is_refused() {
    let dir = fresh_dir("rename");
    write(
        &dir.join("Cargo.toml"),
        "[package]\nname = \"ch09-exercises\"\nversion = \"0.1.0\"\n",
    );

    assert_eq!(rename_package(&dir, "solved").unwrap(), "ch09-exercises-solved");
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"ch09-exercises-solved\""), "{manifest}");
    assert!(manifest.contains("[lib]\nname = \"ch09_exercises\""), "{manifest}");

    let twice = rename_package(&dir, "again").expect_err("a manifest with a [lib] section");
    assert!(twice.to_string().contains("[lib] section already"), "{twice}");
    write(&dir.join("Cargo.toml"), "[workspace]\n");
    let nameless = rename_package(&dir, "solved").expect_err("a manifest with no package");
    assert!(nameless.to_string().contains("no package name"), "{nameless}");
    std::fs::remove_dir_all(dir).unwrap();
}
