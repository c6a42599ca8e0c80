//! A cache prefetch hint, for the engine's hot loop.

/// Asks the CPU to start loading `value` into cache. A hint only: it changes
/// no state and no result, so determinism is unaffected. In a large cluster,
/// touching a random node's slot is a cache miss; issuing the load one event
/// early overlaps it with the current event's work.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let start = value as *const T as *const i8;
        let size = std::mem::size_of::<T>();
        let mut offset = 0;
        while offset < size {
            // SAFETY: prefetch never faults and reads nothing observable; the
            // address lies inside a live reference.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset)) };
            offset += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

