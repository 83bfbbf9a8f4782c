//! The numeric platform: what decides the float32 bits a model gives on this machine, and
//! tract's portable mode.
//!
//! Model outputs are float32 sums and activations, and the order in which a kernel rounds
//! them depends on the kernel. tract picks its kernels at run time from the CPU's
//! instruction-set features (and, for matrix products on x86-64, from a per-vendor cost
//! model), so the same model and rows give the same bits on two machines only when both
//! pick the same kernels. What was measured on the sample models (`benches/NUMERICS.md`,
//! from `benches/numerics.sh`):
//!
//! * AVX-512 and AVX2+FMA machines run different matrix-product kernels
//!   (`avx512_mmm_f32_128x1` against `fma_mmm_f32_64x1` for matrix-vector products) and
//!   different sigmoid/tanh/exp kernels (`avx512_*` against `fma_*`);
//! * a CPU with AVX and FMA but no AVX2 runs AVX kernels without fused multiply-adds
//!   (`avx_mmm_f32_*`, `avx_sigmoid_f32`, `avx_tanh_f32`) and portable Rust for exp;
//! * with no AVX at all (or in [`Mode::Portable`]) every kernel is tract's portable Rust
//!   (`generic_f32_4x4`, `generic_sigmoid_f32_4n`, ...);
//! * on aarch64 NEON kernels are chosen whatever the features, so portable Rust is out of
//!   reach there; [`Mode::Portable`] pins aarch64 to its NEON baseline instead.
//!
//! [`Platform`] records all of it for every artifact: the architecture and OS, the CPU
//! vendor, the instruction-set features tract dispatches on (present and missing), the
//! kernels chosen, and any `TRACT_*` setting that changes them. Two runs whose platforms are
//! equal (with the same backend and version) give identical bits; `explain verify` compares
//! exactly then, and within float32 rounding otherwise (`check::verify::compare::ROUNDING`).
//!
//! [`Mode::Portable`] asks tract to use one kernel family on every machine of an
//! architecture: the run is then bit-identical on every x86-64 CPU, with or without AVX2 or
//! AVX-512, for a cost measured at 1.10-1.42x on the sample reports. The mode is
//! process-wide (tract resolves its instruction set once) and must be chosen before the
//! first model loads: [`set_mode`].

use crate::{Result, bad_input};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use tract_onnx::prelude::tract_linalg::{isa, knobs, routines};
use tract_onnx::prelude::{Datum, tract_data};

/// How tract chooses its kernels.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The fastest kernels this CPU can run (tract's own choice): the bits depend on the
    /// CPU's features.
    #[default]
    Native,
    /// One kernel family for every CPU of the architecture: on x86-64 tract's portable Rust
    /// kernels, on aarch64 its baseline NEON kernels.
    Portable,
}

static MODE: OnceLock<Mode> = OnceLock::new();

/// Chooses how tract picks kernels in this process. Call it before the first model loads;
/// choosing another mode than the one already in force is an error (tract resolves its
/// instruction set once per process).
pub fn set_mode(mode: Mode) -> Result<()> {
    let current = *MODE.get_or_init(|| {
        if mode == Mode::Portable {
            pin_portable();
        }
        mode
    });
    if current != mode {
        bad_input!(
            "this process already runs tract with {} numerics and cannot switch to {} \
             (tract resolves its kernels once per process): run it as a separate command",
            current.name(),
            mode.name()
        );
    }
    Ok(())
}

/// The mode in force; [`Mode::Native`] unless [`set_mode`] chose another before. Fixes the
/// mode for the rest of the process.
pub fn mode() -> Mode {
    *MODE.get_or_init(|| Mode::Native)
}

/// Removes every optional instruction-set feature from tract's view of the CPU (taking
/// precedence over a `TRACT_CPU_ISA` in the environment), and on aarch64 the CPU-specific
/// kernel variants too.
fn pin_portable() {
    // Not from `isa::native()`: that would resolve the instruction set before the knob is set.
    let Some(arch) = isa::Arch::ALL.into_iter().find(|a| a.is_native()) else {
        return;
    };
    let spec: Vec<String> = isa::Isa::ALL
        .iter()
        .filter(|i| !i.is_arch() && i.arch() == arch)
        .map(|i| format!("-{}", i.name()))
        .collect();
    knobs::TRACT_CPU_ISA.set(Some(spec.join(",")));
    if arch == isa::Arch::Aarch64 {
        knobs::TRACT_CPU_AARCH64_KIND.set(Some("generic".into()));
    }
}

/// What decides the bits of a backend's outputs on this machine, as recorded in artifacts
/// (`model.numerics`, `identification.numerics`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Platform {
    pub mode: Mode,
    /// `x86_64`, `aarch64`, ...
    pub arch: String,
    /// `linux`, `macos`, `windows`, ... (system maths libraries differ between them).
    pub os: String,
    /// `amd`, `intel` or `other` on x86-64 (tract's matrix-product cost model depends on it);
    /// empty elsewhere.
    pub cpu_vendor: String,
    /// The instruction-set features the backend dispatches on that the run used.
    pub cpu_features: Vec<String>,
    /// Those it dispatches on that the run did not have (or was told not to use).
    pub cpu_features_missing: Vec<String>,
    /// The kernels chosen, by function (`matmul`: every matrix-product kernel the model's
    /// plans use). Empty for ONNX Runtime, which does not report its choice.
    pub kernels: BTreeMap<String, String>,
    /// Settings that change kernel choice (`TRACT_*` knobs away from their default).
    pub settings: BTreeMap<String, String>,
}

impl Platform {
    /// One line: `x86_64 linux (amd), native: avx, avx2, fma; no avx512f`.
    pub fn describe(&self) -> String {
        let vendor = if self.cpu_vendor.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.cpu_vendor)
        };
        let features = if self.cpu_features.is_empty() {
            "no optional instruction sets".to_string()
        } else {
            self.cpu_features.join(", ")
        };
        let missing = if self.cpu_features_missing.is_empty() {
            String::new()
        } else {
            format!("; no {}", self.cpu_features_missing.join(", "))
        };
        let settings: String = self
            .settings
            .iter()
            .map(|(k, v)| format!(", {k}={v}"))
            .collect();
        format!(
            "{} {}{vendor}, {}: {features}{missing}{settings}",
            self.arch,
            self.os,
            self.mode.name()
        )
    }

    /// tract's platform: its view of the CPU (after [`Mode`] and `TRACT_CPU_ISA`), the
    /// single-winner f32 kernels it picks for it, and `matmul`, the matrix-product kernels
    /// of the plans built so far.
    pub fn tract(matmul: &BTreeSet<String>) -> Platform {
        let set = isa::native();
        let arch = set.arch();
        let (mut features, mut missing) = (Vec::new(), Vec::new());
        for i in isa::Isa::ALL {
            if i.is_arch() || Some(i.arch()) != arch {
                continue;
            }
            if set.has(i) {
                features.push(i.name().to_string());
            } else {
                missing.push(i.name().to_string());
            }
        }
        let mut kernels = BTreeMap::new();
        for f in routines::Func::ALL {
            if let Some(r) = routines::best_for(f, f32::datum_type(), &set) {
                kernels.insert(f.name().to_string(), r.name().to_string());
            }
        }
        if !matmul.is_empty() {
            let names: Vec<&str> = matmul.iter().map(String::as_str).collect();
            kernels.insert("matmul".into(), names.join(", "));
        }
        let mut settings: BTreeMap<String, String> = tract_data::knobs::all()
            .into_iter()
            // An empty value (`TRACT_CPU_ISA=`) changes nothing.
            .filter(|k| (k.current)() != (k.default)() && !(k.current)().is_empty())
            .map(|k| (k.name.to_string(), (k.current)()))
            .collect();
        if let Ok(kind) = std::env::var("TRACT_X86_KIND")
            && !kind.is_empty()
        {
            settings.insert("TRACT_X86_KIND".into(), kind);
        }
        Platform {
            mode: mode(),
            arch: std::env::consts::ARCH.into(),
            os: std::env::consts::OS.into(),
            cpu_vendor: cpu_vendor(),
            cpu_features: features,
            cpu_features_missing: missing,
            kernels,
            settings,
        }
    }

    /// ONNX Runtime's platform: its kernels (MLAS) are chosen from the CPU's features, which
    /// are recorded; the choice itself is not reported.
    pub fn onnxruntime() -> Platform {
        let (features, missing) = host_features();
        Platform {
            mode: Mode::Native,
            arch: std::env::consts::ARCH.into(),
            os: std::env::consts::OS.into(),
            cpu_vendor: cpu_vendor(),
            cpu_features: features,
            cpu_features_missing: missing,
            kernels: BTreeMap::new(),
            settings: BTreeMap::new(),
        }
    }
}

/// tract's x86-64 vendor: `TRACT_X86_KIND` when set, else CPUID's.
fn cpu_vendor() -> String {
    #[cfg(target_arch = "x86_64")]
    {
        if let Ok(k) = std::env::var("TRACT_X86_KIND")
            && !k.is_empty()
        {
            return match k.as_str() {
                "intel" | "amd" => k,
                _ => "other".into(),
            };
        }
        // `unsafe` is required before Rust 1.94; newer compilers call it redundant.
        #[allow(unused_unsafe)]
        let id = unsafe { std::arch::x86_64::__cpuid(0) };
        let mut s = [0u8; 12];
        s[0..4].copy_from_slice(&id.ebx.to_le_bytes());
        s[4..8].copy_from_slice(&id.edx.to_le_bytes());
        s[8..12].copy_from_slice(&id.ecx.to_le_bytes());
        match &s {
            b"GenuineIntel" => "intel".into(),
            b"AuthenticAMD" => "amd".into(),
            _ => "other".into(),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    String::new()
}

/// The CPU features ONNX Runtime's kernel dispatch reads, as the standard library detects
/// them: (present, missing).
fn host_features() -> (Vec<String>, Vec<String>) {
    let mut present = Vec::new();
    let mut missing = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! probe {
            ($($f:tt),*) => {
                $(if std::arch::is_x86_feature_detected!($f) {
                    present.push($f.to_string())
                } else {
                    missing.push($f.to_string())
                })*
            };
        }
        probe!(
            "sse4.1",
            "avx",
            "avx2",
            "fma",
            "f16c",
            "avx512f",
            "avx512bw",
            "avx512vl",
            "avx512vnni",
            "avx512bf16",
            "avx512fp16",
            "avxvnni"
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        macro_rules! probe {
            ($($f:tt),*) => {
                $(if std::arch::is_aarch64_feature_detected!($f) {
                    present.push($f.to_string())
                } else {
                    missing.push($f.to_string())
                })*
            };
        }
        probe!("neon", "fp16", "dotprod", "i8mm", "bf16", "sve", "sve2");
    }
    (present, missing)
}

crate::vocabulary!(Mode, |s| format!("unknown numerics '{s}': expected native or portable"), {
    Native => "native",
    Portable => "portable",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tract_platform_names_this_cpu_and_its_kernels() {
        let p = Platform::tract(&BTreeSet::from(["k1".to_string(), "k0".to_string()]));
        assert_eq!(p.arch, std::env::consts::ARCH);
        assert_eq!(p.kernels["matmul"], "k0, k1");
        assert!(p.kernels.contains_key("sigmoid"), "{:?}", p.kernels);
        #[cfg(target_arch = "x86_64")]
        {
            assert!(["amd", "intel", "other"].contains(&p.cpu_vendor.as_str()));
            let all: BTreeSet<&String> = p
                .cpu_features
                .iter()
                .chain(&p.cpu_features_missing)
                .collect();
            for f in ["avx", "avx2", "fma", "avx512f"] {
                assert!(all.contains(&f.to_string()), "{f} in {all:?}");
            }
        }
        let line = p.describe();
        assert!(line.starts_with(&format!("{} {}", p.arch, p.os)), "{line}");
    }
}
