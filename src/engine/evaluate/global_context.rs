//! A `GlobalContextEntry`'s data, as ClusterPolicy `globalReference`
//! entries and image policies' `globalContext.get` read it: the items of a
//! `kubernetesResource` list or the answer of an `apiCall`, read through the
//! host (`kube_api` fetches) when a policy asks for it, then, for a named
//! projection, its JMESPath over that data. Kyverno keeps the data in an
//! informer cache; here it is read per admission (the host may cache it).

use crate::conditions::functions;
use crate::engine::Engine;
use crate::engine::store::{FailureStatus, Fetch};
use crate::engine::verify::{Fetcher, Got};
use crate::policy::compiled::GlobalSource;
use serde_json::Value;

/// What reading an entry gave.
pub(super) enum GlobalData {
    /// The data (or the projection's result).
    Value(Value),
    /// The host has not answered yet.
    Pending,
    /// The entry could not be read, and why.
    Failed(FailureStatus, String),
    /// No entry has that name.
    Missing,
}

/// The data of the entry `name`, or its projection `projection` (none for
/// `""`); from the CLI's `mocks` when the request has them.
pub(super) fn read(
    (engine, mocks): (&Engine, Option<&serde_json::Map<String, Value>>),
    fetcher: &Fetcher,
    name: &str,
    projection: &str,
    now: Option<i64>,
) -> GlobalData {
    if let Some(mocks) = mocks {
        return mocked(mocks, name, projection);
    }
    let Some(entry) = engine.global_context_entry(name) else {
        return GlobalData::Missing;
    };
    let invalid = |m: String| GlobalData::Failed(FailureStatus::Invalid, m);
    let projected = match projection {
        "" => None,
        p => match entry.projections.iter().find(|q| q.name == p) {
            Some(q) => Some(q),
            None => return invalid(format!("projection {p:?} not found")),
        },
    };
    let (fetch, list) = match &entry.source {
        GlobalSource::Resource { path } => (Fetch::kube_api("GET", path, None), true),
        GlobalSource::ApiCall { method, path, body } => {
            (Fetch::kube_api(method, path, body.clone()), false)
        }
        GlobalSource::Unsupported(why) => {
            return invalid(format!("global context entry {name}: {why}"));
        }
    };
    let data: Value = match fetcher.get(fetch) {
        Got::Pending => return GlobalData::Pending,
        Got::Failed(status, m) => {
            return GlobalData::Failed(status, format!("global context entry {name}: {m}"));
        }
        Got::Bytes(b) => match serde_json::from_slice(b) {
            Ok(v) => v,
            Err(e) => {
                return invalid(format!(
                    "global context entry {name}: the answer is not JSON: {e}"
                ));
            }
        },
    };
    // A resource entry's data is its objects, not the List around them.
    let data = if list {
        match data {
            Value::Object(mut o) if matches!(o.get("items"), Some(Value::Array(_))) => {
                o.remove("items").unwrap_or(Value::Null)
            }
            _ => {
                return invalid(format!(
                    "global context entry {name}: the answer is not a list of objects"
                ));
            }
        }
    } else {
        data
    };
    match projected {
        None => GlobalData::Value(data),
        Some(q) => match functions::search(&q.jmes_path, &data, now) {
            Ok(v) => GlobalData::Value(v),
            Err(e) => invalid(format!("failed to apply projection {:?}: {e}", q.name)),
        },
    }
}

/// A mocked entry, as the Kyverno CLI's fake context reads it: a projection
/// is a key of the entry's data.
fn mocked(mocks: &serde_json::Map<String, Value>, name: &str, projection: &str) -> GlobalData {
    let invalid = |m: String| GlobalData::Failed(FailureStatus::Invalid, m);
    let Some(data) = mocks.get(name) else {
        return GlobalData::Missing;
    };
    if projection.is_empty() {
        return GlobalData::Value(data.clone());
    }
    match data {
        Value::Object(m) => match m.get(projection) {
            Some(v) => GlobalData::Value(v.clone()),
            None => invalid(format!(
                "projection {projection:?} not found in global context entry {name:?}"
            )),
        },
        _ => invalid(format!(
            "projection {projection:?} not found in global context entry {name:?}: stored value is not an object"
        )),
    }
}
