//! What `verify` judges a range by, where no client is trusted (CI): the records that travel
//! with the repository, taken in first, and — when the committed policy lists allowed signers —
//! only the approvals a listed signer signed.

use crate::config::Settings;
use crate::git::Repo;
use crate::records::{self, Synced};
use crate::store::Store;
use crate::trust::AllowedSigners;

/// The store a range is judged by, and where its records came from.
pub struct Judge {
    pub store: Store,
    /// What was taken in from the records refs on the way.
    pub synced: Synced,
    /// The allowed-signers file approvals were checked against, when the policy names one.
    pub signers: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Records(#[from] records::Error),
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error(transparent)]
    Trust(#[from] crate::trust::Error),
    /// Neither a store nor records: nothing can say what is local output.
    #[error("this clone has no git-hybrid records (no store at {store}, no {records} ref)")]
    NoRecords { store: String, records: String },
}

/// This clone's records, and every remote's that fetch brought, taken in: into this clone's store
/// (`sync`), or — when the policy requires signed approvals — into a view of the records refs
/// alone in which only a listed signer's approval approves anything. Without any records and
/// without a store, nothing can say what is local output: an error, never a pass.
pub fn judge(repo: &Repo, settings: &Settings) -> Result<Judge, VerifyError> {
    let path = Store::path_for(repo.common_dir());
    if let Some(file) = &settings.allowed_signers {
        // What this clone recorded goes onto the ref first, so it is judged like a teammate's.
        if let Some(mut own) = Store::open_existing_for(repo)? {
            records::publish(repo, &mut own)?;
        }
        let refs = records::record_refs(repo)?;
        if refs.is_empty() {
            return Err(no_records(&path));
        }
        let signers = AllowedSigners::of_policy(repo, file)?;
        let (store, synced) = records::view(repo, &refs, Some(&signers))?;
        return Ok(Judge {
            store,
            synced,
            signers: Some(signers.origin),
        });
    }
    if records::record_refs(repo)?.is_empty() {
        return match Store::open_existing_for(repo)? {
            Some(store) => Ok(Judge {
                store,
                synced: Synced::default(),
                signers: None,
            }),
            None => Err(no_records(&path)),
        };
    }
    // Not `open_for`: a store lost under its marker is what sync restores.
    let mut store = Store::open(&path)?;
    let synced = records::sync(repo, &mut store)?;
    Ok(Judge {
        store,
        synced,
        signers: None,
    })
}

fn no_records(path: &std::path::Path) -> VerifyError {
    VerifyError::NoRecords {
        store: path.display().to_string(),
        records: records::RECORDS_REF.to_string(),
    }
}
