//! Compiles the C++ shim (libtch/) into `libbyoltorch.so` and links it.
//!
//! Finding libtorch and compiling the shim happen in one place, `lib/libtorch.js`, which the npm
//! install script, the addon loader and `byol doctor` use too; here cargo runs it with Node
//! (`NODE`, default `node`), so `cargo build` and `npm install` search the same places in the same
//! order (`LIBTORCH`, `LIBTORCH_INCLUDE` + `LIBTORCH_LIB`, a Python PyTorch, the system libtorch)
//! and compile with the same flags. The shim is a shared library so that the Rust addon never
//! depends on the libtorch version: only this one file is rebuilt against another libtorch
//! (`node scripts/install.js --force`).
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let search_env = [
        "LIBTORCH",
        "LIBTORCH_INCLUDE",
        "LIBTORCH_LIB",
        "LIBTORCH_USE_PYTORCH",
        "BYOL_NO_SYSTEM_LIBTORCH",
        "PYTHON",
        "CUDA_HOME",
        "CXX",
        "NODE",
    ];
    for var in search_env {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let script = manifest.join("../../lib/libtorch.js");
    println!("cargo:rerun-if-changed=libtch");
    println!("cargo:rerun-if-changed={}", script.display());

    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let node = env::var("NODE").unwrap_or_else(|_| "node".to_string());
    let output = Command::new(&node).arg(&script).arg("--build").arg(&out_dir).output().unwrap_or_else(|e| {
        panic!("byol: running `{node} {}` failed ({e}): Node.js finds libtorch for the build", script.display())
    });
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        panic!("byol: could not build the libtorch shim:\n{stderr}");
    }
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        println!("cargo:warning={line}");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let field = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key).and_then(|rest| rest.strip_prefix('=')))
            .unwrap_or_default()
            .to_string()
    };

    println!("cargo:rustc-link-search=native={}", out_dir.display());
    println!("cargo:rustc-link-lib=dylib=byoltorch");
    // Dependents (the Node addon) copy the shim next to their own library.
    println!("cargo:lib_dir={}", out_dir.display());
    println!("cargo:found_by={}", field("found_by"));
    println!("cargo:cuda={}", field("cuda"));
}
