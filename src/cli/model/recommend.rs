//! `git hybrid model recommend`: the model this machine runs best.

use crate::cli::Status;
use crate::error::CommandError;
use crate::ui;

pub fn run(json: bool) -> Result<Status, CommandError> {
    let r = crate::local::models::recommend(crate::local::models::Machine::detect());
    if json {
        ui::out(serde_json::to_string(&r)?);
        return Ok(Status::Ok);
    }
    let m = &r.machine;
    ui::out(format!(
        "{} cores, RAM {:.1} GB, memory bandwidth {:.1} GB/s, GPU memory {}{}",
        m.cores,
        m.ram_gb,
        m.bandwidth_gbs,
        m.vram_gb
            .map_or("none found".to_string(), |v| format!("{v:.1} GB")),
        if m.gpu_build { " (GPU build)" } else { "" }
    ));
    for e in &r.estimates {
        let mark = if r.model.as_ref() == Some(&e.model) {
            "->"
        } else {
            "  "
        };
        ui::out(format!(
            "{mark} {:<36} {:>5.1} GB  {}",
            e.model.name,
            e.model.gb,
            if e.fits {
                format!(
                    "~{:.0} tok/s{}",
                    e.tokens_per_second,
                    if e.on_gpu { " on the GPU" } else { "" }
                )
            } else {
                "does not fit".to_string()
            }
        ));
    }
    ui::out(&r.reason);
    if let Some(model) = &r.model {
        ui::out(format!(
            "git hybrid model pull {}{}",
            model.url,
            model
                .sha256
                .map_or(String::new(), |s| format!(" --sha256 {s}"))
        ));
        if model.sha256.is_none() {
            ui::say(
                "its sha256 was not verified here: take it from the publisher's page and pass it with --sha256",
            );
        }
    }
    Ok(Status::Ok)
}
