//! Policy model, loading, compilation (defaults, conversion, validation,
//! autogen) and resource matching.
pub mod autogen;
pub mod compile;
pub mod compiled;
pub mod ivpol;
pub mod load;
pub mod matching;
pub mod model;
