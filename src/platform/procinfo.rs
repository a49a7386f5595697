//! What the benchmarks read about this process: resident memory (now and
//! peak) and how long ago the process started. Linux reads `/proc`; other
//! systems answer `None` and the bench says "not measured".

use std::time::Duration;

/// `VmRSS` and `VmHWM` (peak) of this process, in KiB.
pub fn memory_kib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_memory(&status)
}

fn parse_memory(status: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Time since the kernel started this process (exec included).
pub fn since_process_start() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let uptime = std::fs::read_to_string("/proc/uptime").ok()?;
    elapsed(&stat, &uptime, CLK_TCK)
}

fn elapsed(stat: &str, uptime: &str, ticks_per_s: u32) -> Option<Duration> {
    // Field 22 (starttime) counts after the command name, which may hold
    // spaces and parentheses: split after the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    // Parsed as f64 directly: tick counts stay far below 2^52.
    let start_ticks: f64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let up: f64 = uptime.split_whitespace().next()?.parse().ok()?;
    let started = start_ticks / f64::from(ticks_per_s.max(1));
    Some(Duration::from_secs_f64((up - started).max(0.0)))
}

/// `sysconf(_SC_CLK_TCK)`: 100 on every Linux architecture the app ships
/// for (the kernel's `USER_HZ`), so no libc call is needed.
const CLK_TCK: u32 = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_fields_are_read_in_kib() {
        let status = "Name:\tx\nVmHWM:\t  51234 kB\nVmRSS:\t   40960 kB\n";
        assert_eq!(parse_memory(status), Some((40960, 51234)));
        assert_eq!(parse_memory("VmRSS: 1 kB\n"), None);
    }

    #[test]
    fn start_time_counts_after_the_command_name() {
        // pid (comm with ) and spaces) state, then fields 4.. ; starttime is 22nd.
        let fields: Vec<String> = (4..=21).map(|n| n.to_string()).collect();
        let stat = format!("42 (a ) b) S {} 1000 23 24", fields.join(" "));
        let d = elapsed(&stat, "15.50 3.0", 100).unwrap();
        assert_eq!(d, Duration::from_millis(5500));
        assert!(elapsed("garbage", "1 1", 100).is_none());
    }

    #[test]
    fn this_process_is_measured_on_linux() {
        if cfg!(target_os = "linux") {
            let (rss, peak) = memory_kib().unwrap();
            assert!(rss > 0 && peak >= rss);
            assert!(since_process_start().unwrap() < Duration::from_secs(24 * 3600));
        }
    }
}
