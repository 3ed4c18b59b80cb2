//! RFC 3161 timestamp countersignatures (stub).
