//! Memory hints for the engine's hot loop: a cache prefetch, and huge pages
//! for the per-node arrays. Hints only: neither changes any state or result.

/// Asks the CPU to start loading `value` into cache. A hint only: it changes
/// no state and no result, so determinism is unaffected. In a large cluster,
/// touching a random node's slot is a cache miss; issuing the load one event
/// early overlaps it with the current event's work.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    prefetch_range(value as *const T as usize, std::mem::size_of::<T>());
}

/// Prefetches every line that `[start, start + len)` overlaps: a value need
/// not start on a line boundary (32-byte slab slots never straddle two
/// lines, but 24-byte ones did one time in three).
#[inline(always)]
pub(crate) fn prefetch_range(start: usize, len: usize) {
    let end = start + len.max(1);
    let mut line = start & !(CACHE_LINE_BYTES - 1);
    while line < end {
        prefetch_line(line as *const u8);
        line += CACHE_LINE_BYTES;
    }
}

const CACHE_LINE_BYTES: usize = 64;

/// Prefetches the one cache line holding `address`.
#[inline(always)]
pub(crate) fn prefetch_line(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetch never faults and reads nothing observable.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(address as *const i8)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// An empty vector with room for `len` items whose memory the kernel is
/// asked to back with huge pages (Linux; elsewhere a plain vector). Why: at
/// 100,000 nodes the per-node arrays span tens of megabytes, and every
/// delivery touches a random node, so with 4 KiB pages nearly every access
/// also misses the TLB and prefetches wait on page walks.
pub(crate) fn with_huge_pages<T>(len: usize) -> Vec<T> {
    let items: Vec<T> = Vec::with_capacity(len);
    #[cfg(target_os = "linux")]
    {
        const HUGE_PAGE_BYTES: usize = 2 << 20;
        let bytes = items.capacity() * std::mem::size_of::<T>();
        if bytes >= 2 * HUGE_PAGE_BYTES {
            let start = items.as_ptr() as usize;
            let aligned = start.next_multiple_of(HUGE_PAGE_BYTES);
            let end = (start + bytes) / HUGE_PAGE_BYTES * HUGE_PAGE_BYTES;
            if end > aligned {
                // SAFETY: the range lies inside this vector's own allocation,
                // which nothing has touched yet; MADV_HUGEPAGE changes how
                // pages are backed, never their contents. A failure (no THP
                // support) leaves ordinary pages, which is fine.
                unsafe {
                    libc::madvise(
                        aligned as *mut libc::c_void,
                        end - aligned,
                        libc::MADV_HUGEPAGE,
                    );
                }
            }
        }
    }
    items
}
