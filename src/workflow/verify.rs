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
    /// No records ref exists here: nothing but this clone's own store says what is local output.
    pub no_records: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Records(#[from] records::Error),
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error(transparent)]
    Trust(#[from] crate::trust::Error),
}

/// This clone's records, and every remote's that fetch brought, taken in: into this clone's store
/// (`sync`), or — when the policy requires signed approvals — into a view of the records refs
/// alone in which only a listed signer's approval approves anything.
///
/// A repository with no records anywhere (every new team repository, whose remote has none yet)
/// is judged by an empty view: nothing is known as local output, so human work passes — while a
/// commit that names a generation no record describes still blocks (`gate::unrecorded_generations`),
/// and a store that recorded output once and was lost still fails (`Store::open_for`).
pub fn judge(repo: &Repo, settings: &Settings) -> Result<Judge, VerifyError> {
    let path = Store::path_for(repo.common_dir());
    if let Some(file) = &settings.allowed_signers {
        // What this clone recorded goes onto the ref first, so it is judged like a teammate's.
        if let Some(mut own) = Store::open_existing_for(repo)? {
            records::publish(repo, &mut own)?;
        }
        let refs = records::record_refs(repo)?;
        let signers = AllowedSigners::of_policy(repo, file)?;
        let (store, synced) = records::view(repo, &refs, Some(&signers))?;
        return Ok(Judge {
            store,
            synced,
            signers: Some(signers.origin),
            no_records: refs.is_empty(),
        });
    }
    if records::record_refs(repo)?.is_empty() {
        return Ok(Judge {
            store: Store::open_for(repo)?,
            synced: Synced::default(),
            signers: None,
            no_records: true,
        });
    }
    // Not `open_for`: a store lost under its marker is what sync restores. A clone without a
    // store (CI's fresh one) builds it from the records in memory first.
    let mut store = Store::open_filled(&path, |store| records::take_in(repo, store).map(|_| ()))?;
    let synced = records::sync(repo, &mut store)?;
    Ok(Judge {
        store,
        synced,
        signers: None,
        no_records: false,
    })
}
