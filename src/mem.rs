//! Memory hints for the large per-device arrays (device records, timer slots), and how the
//! process keeps the memory it frees.
//!
//! At a million devices these arrays are tens of megabytes and each event touches one device at
//! random, so the time of an event goes to cache and TLB misses as much as to instructions
//! (docs/performance.md). Two hints cut that: a prefetch of the next device's data a few events
//! ahead, and huge pages (2 MB instead of 4 KB) so that a random access needs no page walk.
//! A third setting spares page faults: memory the run frees is kept for its next allocations.
//! A fourth asks glibc to back its whole heap with huge pages ([`huge_page_heap`]). All of them
//! change only speed: results never depend on them.

/// Asks the CPU to start loading `v[i]` into cache (nothing useful if `i` is out of range).
pub fn prefetch<T>(v: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // No bounds check: a run issues a dozen prefetches an event, and the check cost more
        // instructions than the prefetch. The address is computed with wrapping arithmetic
        // (never dereferenced), and an out-of-range one only wastes the hint.
        let p = v.as_ptr().wrapping_add(i).cast::<i8>();
        // SAFETY: a prefetch is only a hint; it never faults, whatever the address, and reads
        // nothing back. SSE is part of every x86-64 target.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (v, i);
}

/// Asks the C allocator to keep memory a run frees for the run's next allocations instead of
/// handing it back to the system (glibc on Linux; elsewhere nothing changes). A run frees and
/// allocates megabytes as it goes (each timer bucket, a service event's device list), and by
/// default glibc unmaps or trims them, so the next allocation faults fresh zeroed pages in
/// again: at ten million devices about 120 MB more page faults, and on a virtual machine a
/// first touch costs about 2 ms a megabyte (docs/performance.md). Allocations above 32 MB
/// (the per-device arrays) are still mapped on their own. A process-wide choice, so the
/// binary makes it, not the library.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt is thread-safe and only changes glibc's thresholds for later
    // allocations; a refused setting leaves the defaults.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
    }
}

/// Backs the C allocator's heap with huge pages, where the system offers them only on request
/// (Linux transparent huge pages in `madvise` mode, glibc 2.35 or later): restarts the process
/// once with `glibc.malloc.hugetlb=1` added to `GLIBC_TUNABLES`, which glibc reads only at
/// startup. Returns when nothing is to be done: another system, huge pages always or never on,
/// the tunable already set (by this function or by the user, who can set
/// `glibc.malloc.hugetlb=0` to opt out), or the restart failed.
///
/// Why: an event touches a dozen small heap blocks at random (timer buckets, device sets, the
/// cached states), and on a virtual machine a TLB miss costs a nested page walk. Measured at a
/// million devices, two runs side by side on the two cores: the heap in huge pages was faster
/// in 13 of 15 pairs, by 9 % at the median (docs/performance.md). Results never depend on it.
pub fn huge_page_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        // Where glibc reads its tunables, at startup only.
        const TUNABLES: &str = "GLIBC_TUNABLES";
        let current = std::env::var_os(TUNABLES).unwrap_or_default();
        let current = current.to_string_lossy();
        if current.contains("glibc.malloc.hugetlb") {
            return;
        }
        let on_request = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .is_ok_and(|mode| mode.contains("[madvise]"));
        if !on_request {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let tunables = if current.is_empty() {
            "glibc.malloc.hugetlb=1".to_string()
        } else {
            format!("{current}:glibc.malloc.hugetlb=1")
        };
        let mut args = std::env::args_os();
        let mut restart = std::process::Command::new(exe);
        if let Some(name) = args.next() {
            // The name it was called by, for messages that quote it.
            restart.arg0(name);
        }
        // `exec` returns only on failure, and then the run goes on as it is.
        let _ = restart.args(args).env(TUNABLES, tunables).exec();
    }
}

/// Arrays smaller than this are left alone: they are cached anyway.
const HUGE_FROM: usize = 4 << 20;

/// A vector of `n` elements made by `f`, its memory advised as huge-page backed before it is
/// first touched (Linux with transparent huge pages in `madvise` or `always` mode; elsewhere,
/// or below a few megabytes, a plain vector).
pub fn filled<T>(n: usize, f: impl FnMut(usize) -> T) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    advise_huge(&mut v);
    v.extend((0..n).map(f));
    v
}

fn advise_huge<T>(v: &mut Vec<T>) {
    let bytes = v.capacity().saturating_mul(size_of::<T>());
    if bytes < HUGE_FROM {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = v.as_mut_ptr() as usize;
        let from = start.next_multiple_of(PAGE);
        let to = (start + bytes) / PAGE * PAGE;
        if to > from {
            // SAFETY: [from, to) lies inside `v`'s allocation, which `v` owns; MADV_HUGEPAGE
            // changes only how the kernel backs those pages, never their contents, and if the
            // kernel refuses, nothing changes.
            unsafe {
                libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filled_vector_holds_what_the_function_made_whatever_its_size() {
        for n in [0, 3, (HUGE_FROM / 8) + 5] {
            let v = filled(n, |i| i as u64 * 3);
            assert_eq!(v.len(), n);
            assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64 * 3));
        }
    }

    #[test]
    fn prefetching_out_of_range_is_harmless() {
        let v = [1u8, 2, 3];
        prefetch(&v, 2);
        prefetch(&v, 99);
        prefetch(&v, usize::MAX);
        prefetch::<u64>(&[], 7);
        assert_eq!(v, [1, 2, 3]);
    }
}
