//! Placeholder: the inventory processor (issue 3) is being built.
