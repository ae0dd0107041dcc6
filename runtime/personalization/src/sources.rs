//! Profile sources besides the website (CONTRACT 7.7): Google Business
//! Profile, Facebook and Instagram. None has a public API without keys, so a
//! host plugs in a [`ProfileSources`] that can read them; without one, every
//! source reports [`SourceRead::NotConfigured`] and the job says so in its
//! notes rather than inventing data.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Gbp,
    Facebook,
    Instagram,
}

impl SourceKind {
    pub const ALL: [SourceKind; 3] = [SourceKind::Gbp, SourceKind::Facebook, SourceKind::Instagram];

    /// The `sourcesUsed` name.
    pub const fn name(self) -> &'static str {
        match self {
            SourceKind::Gbp => "gbp",
            SourceKind::Facebook => "facebook",
            SourceKind::Instagram => "instagram",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            SourceKind::Gbp => "Google Business Profile",
            SourceKind::Facebook => "Facebook",
            SourceKind::Instagram => "Instagram",
        }
    }
}

/// What reading one source gave.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceRead {
    /// This gateway has no reader (or no credentials) for the source.
    NotConfigured,
    /// Facts about the business, handed to the model as they are.
    Found(Value),
    /// The reader failed (message for notes and logs).
    Failed(String),
}

/// Reads one non-website source by the id the caller gave
/// (`gbpPlaceId`, `facebookPageId`, `instagramHandle`).
pub trait ProfileSources {
    async fn read(&self, kind: SourceKind, id: &str) -> SourceRead;
}

/// No source configured: the default on both hosts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unconfigured;

impl ProfileSources for Unconfigured {
    async fn read(&self, _kind: SourceKind, _id: &str) -> SourceRead {
        SourceRead::NotConfigured
    }
}
