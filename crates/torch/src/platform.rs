//! The CPU libraries libtorch computes with: the BLAS behind matrix products and oneDNN behind
//! convolutions, and which oneDNN instruction set is safe to train with.
use crate::error::{check, Result};
use std::ffi::CStr;
use std::os::raw::{c_char, c_int};
use std::sync::OnceLock;
use torch_sys as sys;

/// The BLAS libtorch's matrix products go to.
#[derive(Debug, Clone, PartialEq)]
pub struct BlasInfo {
    /// `OpenBLAS`, `reference BLAS`, `BLIS`, `MKL`, ... or `built into libtorch`.
    pub name: String,
    /// The library file providing `sgemm_`, when libtorch loads it from outside.
    pub library: Option<String>,
    /// OpenBLAS's build string (version, kernel, thread limit).
    pub config: Option<String>,
    /// OpenBLAS's threading: `openmp`, `pthreads` or `sequential`.
    pub threading: Option<&'static str>,
    /// Netlib's reference implementation: correct, but 2x slower for byol than an optimized one.
    pub reference: bool,
}

pub fn blas() -> Result<BlasInfo> {
    let (mut library, mut config) = ([0 as c_char; 4096], [0 as c_char; 512]);
    let mut threading: c_int = -1;
    check(unsafe {
        sys::bt_blas_info(library.as_mut_ptr(), library.len(), config.as_mut_ptr(), config.len(), &mut threading)
    })?;
    let library = non_empty(&library);
    let file = library.as_deref().unwrap_or("").to_ascii_lowercase();
    // The library that answers `sgemm_` decides; an OpenBLAS loaded for LAPACK alone does not.
    let openblas = file.contains("openblas") || (file.is_empty() && non_empty(&config).is_some());
    let (config, threading) = if openblas { (non_empty(&config), threading) } else { (None, -1) };
    let name = if openblas {
        "OpenBLAS"
    } else if file.contains("blis") {
        "BLIS"
    } else if file.contains("mkl") {
        "MKL"
    } else if file.contains("atlas") {
        "ATLAS"
    } else if file.is_empty() || file.contains("libtorch") {
        "built into libtorch"
    } else if file.contains("libblas.so") {
        "reference BLAS"
    } else {
        "unknown BLAS"
    };
    let threading = match threading {
        0 => Some("sequential"),
        1 => Some("pthreads"),
        2 => Some("openmp"),
        _ => None,
    };
    Ok(BlasInfo { name: name.to_string(), library, config, threading, reference: name == "reference BLAS" })
}

/// Which instruction set oneDNN computes with, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct OnednnIsa {
    /// libtorch's oneDNN, e.g. `2.6.3`.
    pub version: Option<String>,
    /// The instruction set oneDNN dispatches to (`avx512_core_bf16`, ...), when its API is
    /// reachable from this libtorch.
    pub isa: Option<String>,
    /// byol capped oneDNN below what the CPU offers.
    pub capped: bool,
    pub reason: String,
}

const AVX512_CORE_BF16: c_int = 0xe7;
const USER_VARIABLES: [&str; 2] = ["ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"];

/// Keeps oneDNN off AMX where its AMX bf16 kernels make training diverge: oneDNN 2.x, as in
/// libtorch 1.13 (oneDNN 2.6.3), where bf16 losses turn NaN within a few steps on AMX CPUs and
/// train correctly at the same speed capped to AVX512-BF16. A cap set by the user through
/// `ONEDNN_MAX_CPU_ISA` is left alone. Decided once per process, before oneDNN's first kernel:
/// [`init`](crate::init) calls it.
pub fn onednn_isa() -> &'static OnednnIsa {
    static DECIDED: OnceLock<OnednnIsa> = OnceLock::new();
    DECIDED.get_or_init(decide_onednn_isa)
}

fn decide_onednn_isa() -> OnednnIsa {
    let version = onednn_version();
    let api = flag(|out| unsafe { sys::bt_onednn_api_available(out) }).unwrap_or(false);
    let amx = flag(|out| unsafe { sys::bt_cpu_has_amx_bf16(out) }).unwrap_or(false);
    let shown = version.as_ref().map(|(text, _)| text.clone());
    let user = USER_VARIABLES.iter().find_map(|name| std::env::var(name).ok().map(|v| format!("{name}={v}")));
    let broken_amx = matches!(version, Some((_, major)) if major < 3);
    let (capped, reason) = if let Some(setting) = user {
        (false, format!("{setting}, set in the environment"))
    } else if !amx {
        (false, "the CPU has no AMX-BF16: oneDNN uses the best instruction set the CPU has".to_string())
    } else if !broken_amx {
        (
            false,
            format!(
                "AMX-BF16 in use: oneDNN {} is not one whose AMX bf16 kernels diverge",
                shown.as_deref().unwrap_or("(version unknown)")
            ),
        )
    } else {
        let why = format!(
            "capped to AVX512_CORE_BF16: oneDNN {}'s AMX bf16 kernels make training diverge (NaN loss) on this AMX CPU; \
             ONEDNN_MAX_CPU_ISA=AVX512_CORE_AMX overrides",
            shown.as_deref().unwrap_or("2.x")
        );
        match cap(api) {
            Ok(()) => (true, why),
            Err(e) => (false, format!("could not cap oneDNN below AMX ({e}): bf16 training may diverge here")),
        }
    };
    let isa = if api { effective_isa(version.as_ref().map_or(0, |v| v.1)) } else { None };
    OnednnIsa { version: shown, isa, capped, reason }
}

/// Through oneDNN's API where libtorch exposes it, else through the variable oneDNN reads when it
/// first dispatches (which child processes inherit).
fn cap(api: bool) -> Result<()> {
    if api {
        check(unsafe { sys::bt_onednn_set_max_cpu_isa(AVX512_CORE_BF16) })
    } else {
        std::env::set_var(USER_VARIABLES[0], "AVX512_CORE_BF16");
        Ok(())
    }
}

/// `(x.y.z, x)` from libtorch's oneDNN description ("Intel(R) MKL-DNN v2.6.3 (Git Hash ...)").
fn onednn_version() -> Option<(String, u32)> {
    let mut buf = [0 as c_char; 256];
    check(unsafe { sys::bt_onednn_version(buf.as_mut_ptr(), buf.len()) }).ok()?;
    let text = non_empty(&buf)?;
    let start = text.find(" v")? + 2;
    let version: String = text[start..].chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    let major = version.split('.').next()?.parse().ok()?;
    Some((version, major))
}

/// The name of a `dnnl_cpu_isa_t` value; the values of AMX and of some others moved in oneDNN 3.
fn effective_isa(major: u32) -> Option<String> {
    let mut value: c_int = 0;
    check(unsafe { sys::bt_onednn_effective_cpu_isa(&mut value) }).ok()?;
    let name = match (value, major >= 3) {
        (0x1, _) => "sse41",
        (0x3, _) => "avx",
        (0x7, _) => "avx2",
        (0x27, _) => "avx512_core",
        (0x67, _) => "avx512_core_vnni",
        (0xe7, _) => "avx512_core_bf16",
        (0xf, false) => "avx512_mic",
        (0x1f, false) => "avx512_mic_4ops",
        (0x3e7, false) => "avx512_core_amx",
        (0x407, false) => "avx2_vnni",
        (0xf, true) => "avx2_vnni",
        (0x1f, true) => "avx2_vnni_2",
        (0x1ef, true) => "avx512_core_fp16",
        (0xfef, true) => "avx512_core_amx",
        (0x1fef, true) => "avx512_core_amx_fp16",
        _ => return Some(format!("0x{value:x}")),
    };
    Some(name.to_string())
}

fn flag(f: impl FnOnce(*mut c_int) -> sys::bt_error) -> Result<bool> {
    let mut out: c_int = 0;
    check(f(&mut out))?;
    Ok(out != 0)
}

fn non_empty(buf: &[c_char]) -> Option<String> {
    let s = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned();
    (!s.is_empty()).then_some(s)
}
