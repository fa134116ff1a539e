//! Which model fits this machine, and runs fast enough on it to be worth waiting for.
//!
//! Generating a token reads every weight once, so on a CPU the speed is bounded by memory
//! bandwidth over the model's size, and by the cores' arithmetic; on a GPU (in a build with a
//! GPU feature) by its memory. The recommendation is the largest model of the catalogue that
//! fits in memory and is estimated at `TARGET_TOKENS_PER_SECOND` or more — a concrete file with
//! its download URL, and its SHA-256 where the file was verified here.

use std::time::Instant;

/// Below this, waiting for an implementation costs more than the cloud tokens it saves.
pub const TARGET_TOKENS_PER_SECOND: f64 = 8.0;

/// A model `model pull` can fetch.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Candidate {
    pub name: &'static str,
    pub parameters_b: f64,
    /// The file's size: what every generated token reads.
    pub gb: f64,
    pub url: &'static str,
    /// Where it was verified here (the file assembled from its registry package); `None`: check
    /// the publisher's page, and pass it to `model pull --sha256`.
    pub sha256: Option<&'static str>,
}

/// Qwen2.5-Coder Instruct at Q4_K_M: the family the workflow was sized for, Apache-2.0.
pub const CATALOGUE: &[Candidate] = &[
    Candidate {
        name: "Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
        parameters_b: 0.5,
        gb: 0.49,
        url: "https://huggingface.co/Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF/resolve/main/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        sha256: Some("1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
    },
    Candidate {
        name: "Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        parameters_b: 1.5,
        gb: 1.1,
        url: "https://huggingface.co/Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/resolve/main/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256: Some("cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
    },
    Candidate {
        name: "Qwen2.5-Coder-3B-Instruct Q4_K_M",
        parameters_b: 3.0,
        gb: 2.1,
        url: "https://huggingface.co/Qwen/Qwen2.5-Coder-3B-Instruct-GGUF/resolve/main/qwen2.5-coder-3b-instruct-q4_k_m.gguf",
        sha256: None,
    },
    Candidate {
        name: "Qwen2.5-Coder-7B-Instruct Q4_K_M",
        parameters_b: 7.6,
        gb: 4.7,
        url: "https://huggingface.co/Qwen/Qwen2.5-Coder-7B-Instruct-GGUF/resolve/main/qwen2.5-coder-7b-instruct-q4_k_m.gguf",
        sha256: None,
    },
    Candidate {
        name: "Qwen2.5-Coder-14B-Instruct Q4_K_M",
        parameters_b: 14.8,
        gb: 9.0,
        url: "https://huggingface.co/Qwen/Qwen2.5-Coder-14B-Instruct-GGUF/resolve/main/qwen2.5-coder-14b-instruct-q4_k_m.gguf",
        sha256: None,
    },
    Candidate {
        name: "Qwen2.5-Coder-32B-Instruct Q4_K_M",
        parameters_b: 32.8,
        gb: 19.9,
        url: "https://huggingface.co/Qwen/Qwen2.5-Coder-32B-Instruct-GGUF/resolve/main/qwen2.5-coder-32b-instruct-q4_k_m.gguf",
        sha256: None,
    },
];

/// What this machine has.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Machine {
    pub cores: usize,
    pub ram_gb: f64,
    /// Memory bandwidth as measured (a large copy), GB/s.
    pub bandwidth_gbs: f64,
    pub vram_gb: Option<f64>,
    /// Whether this binary can offload to a GPU (built with cuda, vulkan or metal).
    pub gpu_build: bool,
}

impl Machine {
    pub fn detect() -> Machine {
        Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            ram_gb: crate::sys::ram_gb().unwrap_or(0.0),
            bandwidth_gbs: measure_bandwidth_gbs(),
            vram_gb: detect_vram_gb(),
            gpu_build: cfg!(any(feature = "cuda", feature = "vulkan", feature = "metal")),
        }
    }
}

/// One candidate as this machine would run it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Estimate {
    pub model: Candidate,
    pub fits: bool,
    pub on_gpu: bool,
    pub tokens_per_second: f64,
}

/// What to run on this machine.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Recommendation {
    pub machine: Machine,
    pub estimates: Vec<Estimate>,
    /// The catalogue entry to pull; `None` when none fits at all.
    pub model: Option<Candidate>,
    pub on_gpu: bool,
    pub reason: String,
}

/// Tokens a second a model of `gb` reaches: memory-bound at about 60% of the measured bandwidth
/// (what llama.cpp reaches on CPUs), and bounded by the cores' arithmetic at about 10 billion
/// parameters a second per core for 4-bit weights (measured here: Qwen2.5-Coder-0.5B Q4_K_M
/// writes 41 tokens a second on 2 cores); a GPU's memory at about 300 GB/s.
fn estimate(model: &Candidate, machine: &Machine, on_gpu: bool) -> f64 {
    if on_gpu {
        return 300.0 / model.gb;
    }
    let memory = 0.6 * machine.bandwidth_gbs / model.gb;
    let compute = 10.0 * machine.cores as f64 / model.parameters_b;
    memory.min(compute)
}

/// The largest model that fits (in GPU memory when this build can use a GPU, else in RAM with
/// 4 GB left for the system) and is estimated at the target speed; else the fastest that fits.
pub fn recommend(machine: Machine) -> Recommendation {
    let gpu = machine.gpu_build.then_some(machine.vram_gb).flatten();
    let estimates: Vec<Estimate> = CATALOGUE
        .iter()
        .map(|model| {
            // A model fits the GPU with 10% left for the context; else the RAM.
            let on_gpu = gpu.is_some_and(|v| model.gb * 1.1 <= v);
            let fits = on_gpu || model.gb + 1.0 <= (machine.ram_gb - 4.0).max(0.0);
            Estimate {
                model: model.clone(),
                fits,
                on_gpu,
                tokens_per_second: estimate(model, &machine, on_gpu),
            }
        })
        .collect();
    let fitting: Vec<&Estimate> = estimates.iter().filter(|e| e.fits).collect();
    let fast = fitting
        .iter()
        .rev()
        .find(|e| e.tokens_per_second >= TARGET_TOKENS_PER_SECOND);
    let chosen = fast.or_else(|| fitting.first()).copied();
    let reason = match (chosen, fast.is_some()) {
        (Some(e), true) => format!(
            "{} fits {} and should write about {:.0} tokens a second here{}",
            e.model.name,
            if e.on_gpu {
                "the GPU's memory"
            } else {
                "in RAM"
            },
            e.tokens_per_second,
            if e.on_gpu {
                " (run it with --gpu-layers 999)"
            } else {
                ""
            }
        ),
        (Some(e), false) => format!(
            "only {} is within reach, at about {:.0} tokens a second: expect to wait, or use the openai backend against a faster machine",
            e.model.name, e.tokens_per_second
        ),
        (None, _) => format!(
            "{:.0} GB of RAM is too little for any model here; use the openai backend against a bigger machine",
            machine.ram_gb
        ),
    };
    let gpu_unused = machine.vram_gb.is_some() && !machine.gpu_build;
    let reason = if gpu_unused {
        format!(
            "{reason}; this build cannot use the GPU found: rebuild with --features cuda (or vulkan) for more"
        )
    } else {
        reason
    };
    Recommendation {
        on_gpu: chosen.is_some_and(|e| e.on_gpu),
        model: chosen.map(|e| e.model.clone()),
        machine,
        estimates,
        reason,
    }
}

/// Copies a 256 MiB buffer a few times and keeps the best rate (read and write both count).
pub fn measure_bandwidth_gbs() -> f64 {
    const SIZE: usize = 256 << 20;
    let source = vec![1u8; SIZE];
    let mut target = vec![0u8; SIZE];
    let mut best = 0.0f64;
    for _ in 0..3 {
        let started = Instant::now();
        target.copy_from_slice(&source);
        std::hint::black_box(&target);
        let seconds = started.elapsed().as_secs_f64();
        if seconds > 0.0 {
            best = best.max(2.0 * SIZE as f64 / seconds / 1e9);
        }
    }
    best
}

/// Total GPU memory of the largest NVIDIA GPU, from nvidia-smi when it is installed.
pub fn detect_vram_gb() -> Option<f64> {
    let out = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=memory.total", "--format=csv,noheader,nounits"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse::<f64>().ok())
        .fold(None, |best: Option<f64>, mib| {
            Some(best.map_or(mib, |b| b.max(mib)))
        })
        .map(|mib| mib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(
        cores: usize,
        ram_gb: f64,
        bandwidth_gbs: f64,
        vram: Option<f64>,
        gpu_build: bool,
    ) -> Machine {
        Machine {
            cores,
            ram_gb,
            bandwidth_gbs,
            vram_gb: vram,
            gpu_build,
        }
    }

    fn chosen(m: Machine) -> &'static str {
        recommend(m).model.map_or("none", |c| c.name)
    }

    #[test]
    fn cores_bandwidth_and_the_gpu_decide() {
        // Two cores and a slow bus: the small model, however much RAM there is.
        assert_eq!(
            chosen(machine(2, 24.0, 10.0, None, false)),
            "Qwen2.5-Coder-0.5B-Instruct Q4_K_M"
        );
        // A workstation: 16 cores at 60 GB/s run a 3B model at the target speed.
        assert_eq!(
            chosen(machine(16, 64.0, 60.0, None, false)),
            "Qwen2.5-Coder-3B-Instruct Q4_K_M"
        );
        // GPUs in a GPU build: the largest model their memory holds with room.
        let r = recommend(machine(16, 64.0, 60.0, Some(24.0), true));
        assert_eq!(
            r.model.map(|c| c.name),
            Some("Qwen2.5-Coder-32B-Instruct Q4_K_M")
        );
        assert!(r.on_gpu);
        assert_eq!(
            chosen(machine(16, 64.0, 60.0, Some(16.0), true)),
            "Qwen2.5-Coder-14B-Instruct Q4_K_M"
        );
        // The same GPU without a GPU build is named, not used.
        let r = recommend(machine(16, 64.0, 60.0, Some(24.0), false));
        assert!(
            !r.on_gpu && r.reason.contains("--features cuda"),
            "{}",
            r.reason
        );
        // Too little memory for anything.
        assert_eq!(chosen(machine(2, 4.0, 10.0, None, false)), "none");
    }

    #[test]
    fn every_candidate_has_a_url_and_the_verified_one_its_digest() {
        for c in CATALOGUE {
            assert!(
                c.url.starts_with("https://") && c.url.ends_with(".gguf"),
                "{}",
                c.url
            );
        }
        assert_eq!(CATALOGUE[0].sha256.map(str::len), Some(64));
    }
}
