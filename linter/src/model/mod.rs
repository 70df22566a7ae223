//! The template model: the value tree, the resources in it and what they reference.

pub mod error;
pub mod graph;
pub mod node;
pub mod pointer;
pub mod refs;
pub mod resolve;
pub mod template;
