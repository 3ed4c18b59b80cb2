//! The session's artifact store: answers to fetches, keyed by kind and key.
//! Digest-addressed answers are hashed on the way in and rejected on mismatch.

use crate::digest::{Digest, DigestError};
use crate::limits;
use crate::oci::{Manifest, ManifestError};
use serde::{Deserialize, Serialize};
use std::cell::OnceCell;
use std::collections::BTreeMap;

/// Kinds of fetch a host serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchKind {
    /// Manifest by tag (the only unverifiable answer).
    ManifestByTag,
    /// Manifest by digest.
    Manifest,
    /// Blob by digest.
    Blob,
    /// OCI 1.1 referrers index of a digest.
    Referrers,
    /// A Kubernetes API call (`context` `configMap` and `apiCall` entries):
    /// `method` on `path`, with a JSON `body` for POST; the answer is the
    /// response's JSON. Unverifiable, like a tag: the cluster's word.
    KubeApi,
}

impl FetchKind {
    /// Parses the protocol name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "manifest_by_tag" => Some(Self::ManifestByTag),
            "manifest" => Some(Self::Manifest),
            "blob" => Some(Self::Blob),
            "referrers" => Some(Self::Referrers),
            "kube_api" => Some(Self::KubeApi),
            _ => None,
        }
    }
    /// The protocol name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ManifestByTag => "manifest_by_tag",
            Self::Manifest => "manifest",
            Self::Blob => "blob",
            Self::Referrers => "referrers",
            Self::KubeApi => "kube_api",
        }
    }
    fn max_bytes(self) -> usize {
        match self {
            Self::Blob => limits::MAX_BLOB_BYTES,
            Self::KubeApi => limits::MAX_KUBE_API_BYTES,
            _ => limits::MAX_MANIFEST_BYTES,
        }
    }
}

/// Registry access hints from a policy's `imageRegistryCredentials`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Access {
    /// Pull secrets to use (`name` or `namespace/name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    /// Credential providers (`default`, `google`, `azure`, `amazon`, `github`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<String>,
    /// Plain HTTP allowed for this registry.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_insecure: bool,
    /// The resource's service account (`namespace/name`), whose
    /// `imagePullSecrets` a host with a cluster connection also uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
}

impl Access {
    /// Whether no hint is set.
    pub fn is_empty(&self) -> bool {
        *self == Access::default()
    }

    /// This access with a resource's pull credentials added: its pull
    /// secrets after the policy's (Kyverno 1.18 uses both), and its
    /// service account.
    pub fn with_pull(&self, pull: &crate::resource::PullCredentials) -> Access {
        let mut a = self.clone();
        for s in &pull.secrets {
            if !a.secrets.contains(s) {
                a.secrets.push(s.clone());
            }
        }
        a.service_account = pull.service_account.clone();
        a
    }
}

/// One artifact the engine asks the host for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Fetch {
    /// What to fetch.
    pub kind: FetchKind,
    /// The key to echo back in `put`.
    pub key: String,
    /// Registry host.
    pub registry: String,
    /// Repository path.
    pub repository: String,
    /// Tag, for `manifest_by_tag`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tag: Option<String>,
    /// Digest, for `manifest`, `blob`, `referrers`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub digest: Option<String>,
    /// Referrers filter.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub artifact_type: Option<String>,
    /// Credentials hints of the policy entry that needs this.
    #[serde(skip_serializing_if = "Access::is_empty", default)]
    pub access: Access,
    /// The most bytes the answer may have (a descriptor's size); hosts may
    /// stop reading past it and answer `invalid`. The store refuses larger
    /// answers without hashing them.
    #[serde(rename = "maxBytes", skip_serializing_if = "Option::is_none", default)]
    pub max_bytes: Option<usize>,
    /// `GET` or `POST`, for `kube_api`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub method: Option<String>,
    /// The API path (`/api/v1/namespaces/default/configmaps/x`), for `kube_api`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path: Option<String>,
    /// The JSON body of a POST, for `kube_api`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub body: Option<String>,
}

fn repo_ref(registry: &str, repository: &str) -> String {
    if registry.is_empty() {
        repository.to_string()
    } else {
        format!("{registry}/{repository}")
    }
}

impl Fetch {
    /// The same fetch with the policy's access hints.
    pub fn with_access(mut self, access: &Access) -> Self {
        self.access = access.clone();
        self
    }

    /// The same fetch, bounded to `max` bytes.
    pub fn with_max_bytes(mut self, max: usize) -> Self {
        self.max_bytes = Some(max);
        self
    }

    /// A manifest by tag.
    pub fn manifest_by_tag(registry: &str, repository: &str, tag: &str) -> Self {
        Fetch {
            kind: FetchKind::ManifestByTag,
            key: format!("{}:{tag}", repo_ref(registry, repository)),
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag: Some(tag.to_string()),
            digest: None,
            artifact_type: None,
            access: Access::default(),
            max_bytes: None,
            method: None,
            path: None,
            body: None,
        }
    }
    /// A digest-addressed manifest or blob.
    pub fn by_digest(kind: FetchKind, registry: &str, repository: &str, digest: &Digest) -> Self {
        Fetch {
            kind,
            key: format!("{}@{digest}", repo_ref(registry, repository)),
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag: None,
            digest: Some(digest.to_string()),
            artifact_type: None,
            access: Access::default(),
            max_bytes: None,
            method: None,
            path: None,
            body: None,
        }
    }

    /// A Kubernetes API call; the key names the method, the path and the
    /// body's digest.
    pub fn kube_api(method: &str, path: &str, body: Option<String>) -> Self {
        let key = match &body {
            Some(b) => format!("{method} {path} {}", Digest::sha256_of(b.as_bytes())),
            None => format!("{method} {path}"),
        };
        Fetch {
            kind: FetchKind::KubeApi,
            key,
            registry: String::new(),
            repository: String::new(),
            tag: None,
            digest: None,
            artifact_type: None,
            access: Access::default(),
            max_bytes: None,
            method: Some(method.to_string()),
            path: Some(path.to_string()),
            body,
        }
    }
}

/// Typed failure a host reports for a fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureStatus {
    /// 404 / manifest unknown.
    NotFound,
    /// 401 / 403.
    Unauthorized,
    /// A transport failure: network, 5xx after retries, a deadline. The only
    /// failure a policy's `failurePolicy: Ignore` may forgive.
    Error,
    /// The artifact's bytes are unusable: they do not hash to their digest,
    /// exceed a size limit, or are malformed. A verification failure, never
    /// forgiven by `failurePolicy`.
    Invalid,
}

impl FailureStatus {
    /// Parses the protocol name (`not_found`, `unauthorized`, `error`, `invalid`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "not_found" => Some(Self::NotFound),
            "unauthorized" => Some(Self::Unauthorized),
            "error" => Some(Self::Error),
            "invalid" => Some(Self::Invalid),
            _ => None,
        }
    }

    /// The protocol name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Unauthorized => "unauthorized",
            Self::Error => "error",
            Self::Invalid => "invalid",
        }
    }
}

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The bytes.
    Bytes(Vec<u8>),
    /// A failure.
    Failure(FailureStatus, String),
}

/// Why a `put` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PutError {
    /// Unknown kind name.
    #[error("unknown fetch kind {0:?}")]
    UnknownKind(String),
    /// A digest-addressed key without a valid digest.
    #[error("key {key:?} has no valid digest: {error}")]
    BadKey {
        /// The key.
        key: String,
        /// The problem.
        error: DigestError,
    },
    /// The bytes do not hash to the key's digest (recorded as a failure).
    #[error("{key}: {error}")]
    DigestMismatch {
        /// The key.
        key: String,
        /// The mismatch.
        error: DigestError,
    },
    /// Too large (recorded as a failure).
    #[error("{key}: {size} bytes is over the limit of {limit} for {kind}")]
    TooLarge {
        /// The key.
        key: String,
        /// Size given.
        size: usize,
        /// Limit.
        limit: usize,
        /// Kind.
        kind: &'static str,
    },
    /// The store is full.
    #[error("the admission's artifact store is full ({0})")]
    StoreFull(&'static str),
}

/// Longest failure message kept from a host.
const MAX_FAILURE_MESSAGE: usize = 1024;

/// One stored answer with what the engine derives from it once.
#[derive(Debug, Clone)]
struct Entry {
    answer: Answer,
    /// The sha256 digest of a tag answer's bytes, computed once on `put`.
    tag_digest: Option<Digest>,
    /// The bytes parsed as a manifest, on first use.
    manifest: OnceCell<Result<Manifest, ManifestError>>,
}

/// Content- and tag-addressed answers for one session.
#[derive(Debug, Clone, Default)]
pub struct Store {
    entries: BTreeMap<(FetchKind, String), Entry>,
    bytes: usize,
    /// An answer was refused for the byte budget: no further fetches.
    full: bool,
}

impl Store {
    /// Adds an answer; digest-addressed bytes are verified first. A mismatch
    /// or oversize answer is stored as an `invalid` failure (so evaluation
    /// reports it as a verification failure) and also returned as an error.
    pub fn put(&mut self, kind: FetchKind, key: &str, answer: Answer) -> Result<(), PutError> {
        self.put_limited(kind, key, answer, None)
    }

    /// [`Store::put`] with the size the engine expects (a descriptor's): a
    /// larger answer is refused before it is hashed.
    pub fn put_limited(
        &mut self,
        kind: FetchKind,
        key: &str,
        answer: Answer,
        expected_max: Option<usize>,
    ) -> Result<(), PutError> {
        if self.entries.len() >= limits::MAX_STORE_ENTRIES
            && !self.entries.contains_key(&(kind, key.to_string()))
        {
            return Err(PutError::StoreFull("too many entries"));
        }
        let mut result = Ok(());
        let mut refuse = |e: PutError| {
            let a = Answer::Failure(FailureStatus::Invalid, e.to_string());
            result = Err(e);
            a
        };
        let limit = expected_max.map_or(kind.max_bytes(), |m| m.min(kind.max_bytes()));
        let answer = match answer {
            Answer::Bytes(bytes) if bytes.len() > limit => refuse(PutError::TooLarge {
                key: key.to_string(),
                size: bytes.len(),
                limit,
                kind: kind.as_str(),
            }),
            Answer::Bytes(bytes) if self.bytes + bytes.len() > limits::MAX_STORE_BYTES => {
                self.full = true;
                refuse(PutError::StoreFull("byte budget exhausted"))
            }
            Answer::Bytes(bytes) if matches!(kind, FetchKind::Manifest | FetchKind::Blob) => {
                let digest = key
                    .rsplit_once('@')
                    .map(|(_, d)| d)
                    .ok_or_else(|| PutError::BadKey {
                        key: key.to_string(),
                        error: DigestError::Format(key.to_string()),
                    })
                    .and_then(|d| {
                        Digest::parse(d).map_err(|error| PutError::BadKey {
                            key: key.to_string(),
                            error,
                        })
                    })?;
                match digest.verify(&bytes) {
                    Ok(()) => Answer::Bytes(bytes),
                    Err(error) => refuse(PutError::DigestMismatch {
                        key: key.to_string(),
                        error,
                    }),
                }
            }
            // A host's failure message is kept short.
            Answer::Failure(status, mut message) => {
                if message.len() > MAX_FAILURE_MESSAGE {
                    let mut end = MAX_FAILURE_MESSAGE;
                    while !message.is_char_boundary(end) {
                        end -= 1;
                    }
                    message.truncate(end);
                    message.push('…');
                }
                Answer::Failure(status, message)
            }
            other => other,
        };
        // An answer with bytes is not replaced by a failure for the same key
        // (another policy's credentials may have been refused).
        if matches!(answer, Answer::Failure(..))
            && matches!(
                self.entries.get(&(kind, key.to_string())),
                Some(Entry {
                    answer: Answer::Bytes(_),
                    ..
                })
            )
        {
            return result;
        }
        let add = match &answer {
            Answer::Bytes(b) => b.len(),
            Answer::Failure(_, m) => m.len(),
        };
        self.bytes += add;
        let tag_digest = match (&answer, kind) {
            (Answer::Bytes(b), FetchKind::ManifestByTag) => Some(Digest::sha256_of(b)),
            _ => None,
        };
        let entry = Entry {
            answer,
            tag_digest,
            manifest: OnceCell::new(),
        };
        if let Some(old) = self.entries.insert((kind, key.to_string()), entry) {
            self.bytes -= match old.answer {
                Answer::Bytes(b) => b.len(),
                Answer::Failure(_, m) => m.len(),
            };
        }
        result
    }

    /// Looks an answer up.
    pub fn get(&self, kind: FetchKind, key: &str) -> Option<&Answer> {
        self.entry(kind, key).map(|e| &e.answer)
    }

    /// Whether an answer to this fetch is stored.
    pub fn contains(&self, kind: FetchKind, key: &str) -> bool {
        self.entry(kind, key).is_some()
    }

    fn entry(&self, kind: FetchKind, key: &str) -> Option<&Entry> {
        self.entries.get(&(kind, key.to_string()))
    }

    /// The sha256 digest of a `manifest_by_tag` answer's bytes (hashed once, on `put`).
    pub fn tag_digest(&self, key: &str) -> Option<&Digest> {
        self.entry(FetchKind::ManifestByTag, key)?
            .tag_digest
            .as_ref()
    }

    /// A stored answer's bytes parsed as a manifest (parsed once, on first use).
    pub fn manifest(&self, kind: FetchKind, key: &str) -> Option<&Result<Manifest, ManifestError>> {
        let e = self.entry(kind, key)?;
        let Answer::Bytes(b) = &e.answer else {
            return None;
        };
        Some(e.manifest.get_or_init(|| Manifest::parse(b)))
    }

    /// Bytes held (answers and failure messages).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether an answer was refused for the byte budget (no more fetches).
    pub fn is_full(&self) -> bool {
        self.full
    }

    /// Number of stored answers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
