//! Finds libtorch and compiles the C++ shim (libtch/) into `libbyoltorch.so`.
//!
//! Search order, as tch's torch-sys: `LIBTORCH` (or `LIBTORCH_INCLUDE` + `LIBTORCH_LIB`), a Python
//! PyTorch install when `LIBTORCH_USE_PYTORCH=1`, then the system libtorch (Debian's libtorch-dev).
//! The shim is a shared library so that the Rust addon never depends on the libtorch version: only
//! this one file is rebuilt against another libtorch (see scripts/build-shim.sh).
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Libtorch {
    includes: Vec<PathBuf>,
    lib_dir: PathBuf,
    cxx11_abi: bool,
    found_by: String,
}

fn from_root(root: &Path, found_by: &str) -> Libtorch {
    Libtorch {
        includes: vec![root.join("include"), root.join("include/torch/csrc/api/include")],
        lib_dir: root.join("lib"),
        cxx11_abi: true,
        found_by: found_by.to_string(),
    }
}

fn from_python() -> Result<Libtorch, String> {
    let python = env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let script = "import torch, os; print(os.path.dirname(torch.__file__)); \
                  print(int(torch._C._GLIBCXX_USE_CXX11_ABI))";
    let output = Command::new(&python)
        .args(["-c", script])
        .output()
        .map_err(|e| format!("running {python}: {e}"))?;
    if !output.status.success() {
        return Err(format!("{python} could not import torch: {}", String::from_utf8_lossy(&output.stderr)));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let root = PathBuf::from(lines.next().unwrap_or_default());
    let mut found = from_root(&root, &format!("LIBTORCH_USE_PYTORCH=1 ({python})"));
    found.cxx11_abi = lines.next() == Some("1");
    Ok(found)
}

fn system() -> Option<Libtorch> {
    let include = PathBuf::from("/usr/include");
    let lib_dir = PathBuf::from("/usr/lib/x86_64-linux-gnu");
    if include.join("ATen/ATen.h").exists() && lib_dir.join("libtorch_cpu.so").exists() {
        Some(Libtorch {
            includes: vec![include.clone(), include.join("torch/csrc/api/include")],
            lib_dir,
            cxx11_abi: true,
            found_by: "system libtorch (libtorch-dev)".to_string(),
        })
    } else {
        None
    }
}

fn find() -> Libtorch {
    let mut tried = Vec::new();
    if let Ok(root) = env::var("LIBTORCH") {
        return from_root(Path::new(&root), "LIBTORCH");
    }
    tried.push("LIBTORCH (unset)".to_string());
    if let (Ok(inc), Ok(lib)) = (env::var("LIBTORCH_INCLUDE"), env::var("LIBTORCH_LIB")) {
        let root = PathBuf::from(inc);
        return Libtorch {
            includes: vec![root.join("include"), root.join("include/torch/csrc/api/include")],
            lib_dir: PathBuf::from(lib).join("lib"),
            cxx11_abi: true,
            found_by: "LIBTORCH_INCLUDE + LIBTORCH_LIB".to_string(),
        };
    }
    tried.push("LIBTORCH_INCLUDE + LIBTORCH_LIB (unset)".to_string());
    if env::var("LIBTORCH_USE_PYTORCH").as_deref() == Ok("1") {
        match from_python() {
            Ok(found) => return found,
            Err(e) => tried.push(format!("LIBTORCH_USE_PYTORCH=1: {e}")),
        }
    } else {
        tried.push("LIBTORCH_USE_PYTORCH (not 1)".to_string());
    }
    if let Some(found) = system() {
        return found;
    }
    tried.push("system libtorch: /usr/include/ATen/ATen.h and /usr/lib/x86_64-linux-gnu/libtorch_cpu.so not found".into());
    panic!(
        "byol: no libtorch found. Tried, in order:\n  - {}\nFix: `apt-get install libtorch-dev` \
         (CPU), or set LIBTORCH to an unpacked libtorch, or LIBTORCH_USE_PYTORCH=1 with PyTorch installed.",
        tried.join("\n  - ")
    );
}

/// The CUDA headers and runtime library: `CUDA_HOME` (default /usr/local/cuda), or the
/// `nvidia/<cuXY>` folders a PyTorch wheel ships next to `torch/lib` (only `libcudart.so.N` there).
fn cuda_runtime(torch_lib: &Path) -> Option<(PathBuf, PathBuf, String)> {
    let home = PathBuf::from(env::var("CUDA_HOME").unwrap_or_else(|_| "/usr/local/cuda".into()));
    let mut roots = vec![home];
    if let Ok(entries) = std::fs::read_dir(torch_lib.join("../../nvidia")) {
        roots.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
    }
    let include = roots.iter().map(|r| r.join("include")).find(|d| d.join("cuda_runtime_api.h").exists())?;
    for lib_dir in roots.iter().flat_map(|r| [r.join("lib"), r.join("lib64")]) {
        let mut files: Vec<String> = std::fs::read_dir(&lib_dir)
            .map(|es| es.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        files.retain(|f| f.starts_with("libcudart.so"));
        files.sort();
        if let Some(file) = files.pop() {
            return Some((include, lib_dir, file));
        }
    }
    None
}

fn main() {
    for var in ["LIBTORCH", "LIBTORCH_INCLUDE", "LIBTORCH_LIB", "LIBTORCH_USE_PYTORCH", "PYTHON", "CUDA_HOME"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=libtch");
    let mut sources: Vec<PathBuf> = std::fs::read_dir("libtch")
        .expect("libtch/ holds the shim sources")
        .map(|e| e.expect("reading libtch/").path())
        .filter(|p| p.extension().map_or(false, |e| e == "cpp"))
        .collect();
    sources.sort();

    let torch = find();
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let library = out_dir.join("libbyoltorch.so");
    let cuda = torch.lib_dir.join("libtorch_cuda.so").exists();

    let compiler = cc::Build::new().cpp(true).get_compiler();
    let mut cmd = compiler.to_command();
    cmd.args(["-std=c++17", "-O2", "-fPIC", "-shared", "-w"])
        .arg(format!("-D_GLIBCXX_USE_CXX11_ABI={}", torch.cxx11_abi as u8));
    for include in &torch.includes {
        cmd.arg("-I").arg(include);
    }
    cmd.args(&sources).arg("-o").arg(&library);
    cmd.arg(format!("-L{}", torch.lib_dir.display()))
        .arg(format!("-Wl,-rpath,{}", torch.lib_dir.display()))
        .args(["-Wl,-z,nodelete", "-Wl,--no-as-needed", "-ltorch", "-ltorch_cpu", "-lc10"]);
    if cuda {
        cmd.args(["-ltorch_cuda", "-lc10_cuda"]);
        match cuda_runtime(&torch.lib_dir) {
            // CUDA graphs, side streams and memory statistics (libtch/byol_cuda.cpp).
            Some((include, lib_dir, file)) => {
                cmd.arg("-I").arg(include).arg("-DBYOL_WITH_CUDA");
                cmd.arg(format!("-L{}", lib_dir.display()))
                    .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
                    .arg(format!("-l:{file}"));
            }
            None => println!("cargo:warning=CUDA headers or libcudart not found: the shim has no CUDA graphs (set CUDA_HOME)"),
        }
    }
    cmd.arg("-Wl,--as-needed");
    let status = cmd.status().expect("byol: could not run the C++ compiler");
    if !status.success() {
        panic!("byol: compiling the libtorch shim against {} ({}) failed", torch.found_by, torch.lib_dir.display());
    }

    println!("cargo:rustc-link-search=native={}", out_dir.display());
    println!("cargo:rustc-link-lib=dylib=byoltorch");
    // Dependents (the Node addon) copy the shim next to their own library.
    println!("cargo:lib_dir={}", out_dir.display());
    println!("cargo:found_by={}", torch.found_by);
    println!("cargo:cuda={}", cuda as u8);
}
