//! The CEL environments of an image policy (Kyverno's
//! `createBaseIvpolEnv` and `NewMatchImageEnv`).
//!
//! The policy environment declares `object`, `images`, `attestors` and
//! `attestations` always, and `oldObject`, `request` and `namespaceObject`
//! in Kubernetes mode; each variable is declared as `variables.<name>`
//! with its checked type once it compiles, so later expressions see it
//! (in JSON mode `variables` is not declared at all, as in Kyverno).
//! The `matchImageReferences` environment has only `ref` and the image
//! library.

use super::EvaluationMode;
use crate::cel::{Env, Type, kyverno};
use std::sync::Arc;

/// The variable names.
pub mod names {
    /// The object (admission) or document (JSON mode).
    pub const OBJECT: &str = "object";
    /// The old object of an UPDATE or DELETE.
    pub const OLD_OBJECT: &str = "oldObject";
    /// The admission request.
    pub const REQUEST: &str = "request";
    /// The namespace of a namespaced object.
    pub const NAMESPACE_OBJECT: &str = "namespaceObject";
    /// Extracted images by extractor name.
    pub const IMAGES: &str = "images";
    /// Attestors by name.
    pub const ATTESTORS: &str = "attestors";
    /// Attestation names.
    pub const ATTESTATIONS: &str = "attestations";
    /// The prefix of variables.
    pub const VARIABLES: &str = "variables";
    /// The image string of `matchImageReferences` expressions.
    pub const REF: &str = "ref";
}

/// An image policy's environments.
#[derive(Debug, Clone)]
pub struct PolicyEnv {
    /// Validations, conditions, variables, extractors, annotations.
    pub policy: Arc<Env>,
    /// `matchImageReferences` expressions.
    pub match_image: Arc<Env>,
}

/// The policy environment before any variable is declared.
pub fn policy_env(mode: EvaluationMode, namespaced: bool) -> Env {
    let resource = if namespaced {
        kyverno::RESOURCE_NAMESPACED
    } else {
        kyverno::RESOURCE_CLUSTER
    };
    let mut env = Env::new(&[kyverno::IMAGE, kyverno::GENERIC, kyverno::HOST, resource]);
    env.declare(names::OBJECT, Type::Dyn);
    env.declare(
        names::IMAGES,
        Type::map(Type::String, Type::list(Type::String)),
    );
    env.declare(names::ATTESTORS, Type::map(Type::String, Type::Dyn));
    env.declare(names::ATTESTATIONS, Type::map(Type::String, Type::String));
    if mode == EvaluationMode::Kubernetes {
        env.declare(names::OLD_OBJECT, Type::Dyn);
        env.declare(names::REQUEST, Type::Dyn);
        env.declare(names::NAMESPACE_OBJECT, Type::Dyn);
    }
    env
}

/// The `matchImageReferences` environment.
pub fn match_image_env() -> Env {
    let mut env = Env::new(&[kyverno::IMAGE]);
    env.declare(names::REF, Type::String);
    env
}

/// The declared name of variable `name`.
pub fn variable_name(name: &str) -> String {
    format!("{}.{name}", names::VARIABLES)
}
