//! Links the addon so that Node can load it: Node-API symbols stay undefined (node provides
//! them), the libtorch shim is found next to the addon, and the library is never unloaded
//! (unloading it under libtorch's thread-local destructors crashes worker threads at exit).
use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-rpath,$ORIGIN");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--allow-shlib-undefined");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--unresolved-symbols=ignore-all");

    // Put the shim where the addon is built (target/<profile>/), so both can be copied together.
    let shim_dir = PathBuf::from(env::var("DEP_BYOLTORCH_LIB_DIR").expect("torch-sys exports lib_dir"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let profile_dir = out_dir.ancestors().nth(3).expect("OUT_DIR is target/<profile>/build/<crate>/out");
    std::fs::copy(shim_dir.join("libbyoltorch.so"), profile_dir.join("libbyoltorch.so"))
        .expect("copying libbyoltorch.so next to the addon");
    println!("cargo:rerun-if-changed={}", shim_dir.join("libbyoltorch.so").display());
}
