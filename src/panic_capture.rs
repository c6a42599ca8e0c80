//! Running code that may panic (a protocol bug) and turning the panic into a
//! finding: its message and location, without the default hook's noise.
//!
//! The process-wide panic hook is replaced once; it stays quiet on threads
//! inside `catch` (a thread-local flag) and defers to the previous hook
//! everywhere else, so unrelated panics still print as usual.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

fn install() {
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(Cell::get) {
                let location = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()));
                LOCATION.with(|slot| *slot.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
}

/// A caught panic: its text with where it happened, and the payload for
/// callers that look for a typed one (`scenarios::run::PanicProgress`).
pub struct Caught {
    /// "message (at file:line)".
    pub text: String,
    pub payload: Box<dyn std::any::Any + Send>,
}

/// Runs `f`; a panic comes back as `Err` with its message and location.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, Caught> {
    install();
    CAPTURING.with(|c| c.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CAPTURING.with(|c| c.set(false));
    result.map_err(|payload| {
        let message = scenarios::run::panic_message(payload.as_ref());
        let text = match LOCATION.with(|slot| slot.borrow_mut().take()) {
            Some(location) => format!("{message} (at {location})"),
            None => message,
        };
        Caught { text, payload }
    })
}
