//! Which model fits this machine: its memory, and a GPU's when there is one.

/// The seed workflow's sizing: parameters → memory a 4-bit quantized model needs.
pub const SIZES: &[(&str, f64)] = &[("7B", 6.0), ("14B", 12.0), ("32B", 24.0), ("72B", 48.0)];

/// What to run on this machine.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Recommendation {
    pub ram_gb: f64,
    pub vram_gb: Option<f64>,
    /// The largest size that fits, or `None` when even 7B does not.
    pub size: Option<&'static str>,
    pub on_gpu: bool,
    pub reason: String,
}

/// The largest model size that fits: in GPU memory when there is a GPU (all layers offloaded),
/// else in RAM with 4 GB left for the system.
pub fn recommend(ram_gb: f64, vram_gb: Option<f64>) -> Recommendation {
    let fits = |budget: f64| {
        SIZES
            .iter()
            .rev()
            .find(|(_, need)| *need <= budget)
            .map(|(size, _)| *size)
    };
    let gpu = vram_gb.and_then(|v| fits(v).map(|s| (s, v)));
    let (size, on_gpu, reason) = match gpu {
        Some((size, v)) => (
            Some(size),
            true,
            format!(
                "{v:.0} GB of GPU memory holds a {size} model (build with --features cuda or vulkan, run with --gpu-layers 999)"
            ),
        ),
        None => {
            let budget = (ram_gb - 4.0).max(0.0);
            match fits(budget) {
                Some(size) => (
                    Some(size),
                    false,
                    format!(
                        "{ram_gb:.0} GB of RAM holds a {size} model on the CPU (slow: expect a few tokens a second)"
                    ),
                ),
                None => (
                    None,
                    false,
                    format!(
                        "{ram_gb:.0} GB of RAM is too little for a 7B model; use a small model for tests, or the openai backend against a bigger machine"
                    ),
                ),
            }
        }
    };
    Recommendation {
        ram_gb,
        vram_gb,
        size,
        on_gpu,
        reason,
    }
}

/// Total RAM, from /proc/meminfo.
pub fn detect_ram_gb() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: f64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0 / 1024.0)
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

    #[test]
    fn sizing_follows_the_seed_table() {
        assert_eq!(recommend(64.0, Some(24.0)).size, Some("32B"));
        assert!(recommend(64.0, Some(24.0)).on_gpu);
        assert_eq!(recommend(64.0, Some(8.0)).size, Some("7B"));
        assert_eq!(recommend(64.0, Some(80.0)).size, Some("72B"));
        assert_eq!(recommend(24.0, None).size, Some("14B"));
        assert!(!recommend(24.0, None).on_gpu);
        assert_eq!(recommend(8.0, None).size, None);
        // A GPU too small for 7B falls back to RAM.
        let r = recommend(32.0, Some(4.0));
        assert_eq!((r.size, r.on_gpu), (Some("32B"), false));
    }
}
