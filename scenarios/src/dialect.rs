//! The RON dialect of scenario files, in one place so that the loader,
//! `--set` and each protocol's params parse alike (and none of them needs
//! the loader for it).

use ron::extensions::Extensions;

/// RON nesting depth at most (deeper input is rejected, not recursed into).
pub const NESTING_MAX: usize = 64;

/// The RON dialect of scenario files: `Some(..)` may be left out, and a
/// protocol's params need no second pair of parentheses.
pub fn ron_options() -> ron::Options {
    ron::Options::default()
        .with_default_extension(Extensions::IMPLICIT_SOME | Extensions::UNWRAP_VARIANT_NEWTYPES)
        .with_recursion_limit(NESTING_MAX)
}
