//! Common Expression Language, as Kubernetes and Kyverno evaluate it.
//!
//! An [`Env`] declares variables and functions; [`Env::compile`] parses and
//! type-checks an expression into a [`Program`]; [`Program::eval`] runs it
//! against variable values, with library functions that need the outside
//! world answered by a [`Host`].
//!
//! - [`parser`] (with [`lexer`]): cel-spec's grammar, macros expanded,
//!   source size, nesting, height and node count bounded;
//! - [`checker`]: declarations, overloads, homogeneous literals;
//! - [`eval`]: error values, short-circuits, cost limit;
//! - [`functions`] and [`library`]: one table of declarations and
//!   implementations for checker and evaluator alike;
//! - [`value`], [`time`]: values, types, timestamps and durations;
//! - [`kyverno`]: Kyverno's libraries (image references, hashes, json, …)
//!   and the declarations of the functions a host answers;
//! - [`k8s`]: Kubernetes' libraries every environment has (quantities,
//!   URLs, IP addresses and CIDRs, semantic versions, named formats).
//!
//! Written for this engine rather than taken from a crate: the module needs
//! a type checker (policies are rejected when they load, as Kyverno does),
//! bounded recursion and cost (a policy must not exhaust the sandbox's
//! stack), Kubernetes' extension libraries, and a small footprint.

pub mod ast;
pub mod checker;
pub mod error;
pub mod eval;
pub mod functions;
pub mod k8s;
pub mod kyverno;
pub mod lexer;
pub mod library;
pub mod parser;
pub mod time;
pub mod value;

pub use error::{CelError, CompileErrors};
pub use eval::{EvalError, Host, NoHost};
pub use value::{Type, Value};

use functions::{Decl, FunctionTable};
use std::collections::BTreeMap;

/// Declarations an expression is checked against.
#[derive(Debug)]
pub struct Env {
    table: FunctionTable,
    variables: BTreeMap<String, Type>,
}

impl Env {
    /// The standard library, the extensions Kubernetes enables and
    /// Kubernetes' own libraries ([`k8s`]), plus `libraries`, with no
    /// variables.
    pub fn new(libraries: &[&[Decl]]) -> Self {
        let mut all: Vec<&[Decl]> = vec![library::STANDARD, library::EXTENSIONS];
        all.extend_from_slice(k8s::LIBRARIES);
        all.extend_from_slice(libraries);
        Env {
            table: FunctionTable::new(&all),
            variables: BTreeMap::new(),
        }
    }

    /// Declares a variable.
    pub fn declare(&mut self, name: &str, t: Type) {
        self.variables.insert(name.to_string(), t);
    }

    /// The declared variables.
    pub fn variables(&self) -> &BTreeMap<String, Type> {
        &self.variables
    }

    /// Parses and checks `source`.
    pub fn compile(&self, source: &str) -> Result<Program, CompileErrors> {
        let expr = parser::parse(source)?;
        let result_type =
            checker::check(&expr, &self.table, &self.variables).map_err(|errors| {
                CompileErrors {
                    expression: source.to_string(),
                    errors,
                }
            })?;
        Ok(Program {
            source: source.to_string(),
            expr,
            result_type,
        })
    }
}

/// A checked expression.
#[derive(Debug, Clone)]
pub struct Program {
    source: String,
    expr: ast::Expr,
    result_type: Type,
}

impl Program {
    /// The expression's text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Calls `f` on every node of the expression's tree.
    pub fn visit(&self, f: &mut dyn FnMut(&ast::Expr)) {
        self.expr.visit(f);
    }

    /// Its static type.
    pub fn result_type(&self) -> &Type {
        &self.result_type
    }

    /// Evaluates it with these variable values (checked against the
    /// environment it was compiled in) and host, within `cost_limit`.
    pub fn eval(
        &self,
        env: &Env,
        variables: &BTreeMap<String, Value>,
        host: &mut dyn Host,
        cost_limit: u64,
    ) -> Result<Value, EvalError> {
        eval::Evaluator::new(&env.table, variables, host)
            .with_limit(cost_limit)
            .eval(&self.expr)
    }
}

#[cfg(test)]
mod tests;
