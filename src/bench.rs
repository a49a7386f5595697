//! Benchmarks that need no window: the critical path of the whole
//! configuration under injected latency, and a provisioning cycle of many
//! users. `orchidea-wizard-cli bench` prints them with the window's figures.
//!
//! The critical path is read from the sandbox's request log: the longest
//! chain of the wizard's requests in which each starts after the previous
//! one answered. With latency L on every request, no run can be faster than
//! chain × L; the ratio wall ÷ (chain × L) is what the wizard adds on top.

pub mod window;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use crate::engine::{AlwaysYes, Engine, EngineError, Scope};
use crate::procedure::step::StepId;
use crate::sandbox::{Fault, RequestRecord, Sandbox, SandboxOptions};
use crate::setup::{self, Choices};

/// Why a benchmark could not run; each says it as the part that failed did.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A latency fault the bench builds was refused.
    #[error("{0}")]
    Fault(crate::sandbox::faults::FaultSpecError),
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The synthetic tenant file could not be written.
    #[error(transparent)]
    TenantFile(#[from] std::io::Error),
}

/// One run of steps 1a–16 with latency on every request.
#[derive(Debug, Clone, Serialize)]
pub struct CriticalPath {
    pub latency_ms: u32,
    pub wall_ms: f64,
    /// The wizard's requests (the sandbox's calls to itself not counted).
    pub requests: usize,
    /// The longest chain of requests that had to wait for each other.
    pub chain: usize,
    /// wall ÷ (chain × latency).
    pub ratio: f64,
    /// GETs asked again with no write in between: "METHOD path (n times)".
    pub repeated: Vec<String>,
    pub steps_complete: usize,
    /// Every request of the run: "+start ms  duration ms  METHOD target".
    #[serde(skip)]
    pub trace: Vec<String>,
}

/// Steps 1a–16 against a fresh sandbox with `latency_ms` added to every
/// request to Graph, Orchidea's admin API and its SCIM endpoint. Step 16
/// does not wait for the first cycle (that is Entra's time, not ours).
pub async fn critical_path(latency_ms: u32) -> Result<CriticalPath, BenchError> {
    let faults = ["graph", "scim", "admin"]
        .iter()
        .map(|t| Fault::parse(&format!("{t}:latency={latency_ms}")))
        .collect::<Result<Vec<_>, _>>()
        .map_err(BenchError::Fault)?;
    let sandbox = Sandbox::start(SandboxOptions {
        faults,
        record_requests: true,
        ..SandboxOptions::default()
    })
    .await?;
    let mut cfg = setup::sandbox_config(&sandbox, None, Choices::default());
    cfg.watch_timeout = Duration::ZERO;
    let engine = Engine::new(cfg);
    let _ = sandbox.take_requests();
    let began = Instant::now();
    let outcome = engine.run_all(&AlwaysYes).await;
    let wall = began.elapsed();
    let records: Vec<RequestRecord> = sandbox
        .take_requests()
        .into_iter()
        .filter(|r| !r.internal)
        .collect();
    let steps_complete = engine.checklist().await.completed();
    sandbox.shutdown().await;
    outcome?;
    let chain = longest_chain(&records);
    let mut ordered: Vec<&RequestRecord> = records.iter().collect();
    ordered.sort_by_key(|r| r.started);
    let trace = ordered
        .iter()
        .map(|r| {
            format!(
                "+{:>7.1} ms {:>6.1} ms  {:?} {} {}",
                ms(r.started.saturating_duration_since(began)),
                ms(r.finished.saturating_duration_since(r.started)),
                r.server,
                r.method,
                r.target
            )
        })
        .collect();
    let floor = f64::from(u32::try_from(chain).unwrap_or(u32::MAX)) * f64::from(latency_ms);
    Ok(CriticalPath {
        latency_ms,
        wall_ms: ms(wall),
        requests: records.len(),
        chain,
        ratio: if floor > 0.0 { ms(wall) / floor } else { 0.0 },
        repeated: repeated_reads(&records),
        steps_complete,
        trace,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The most requests that ran one after another (each started no earlier
/// than the previous one finished).
pub fn longest_chain(records: &[RequestRecord]) -> usize {
    let mut spans: Vec<(Instant, Instant)> =
        records.iter().map(|r| (r.started, r.finished)).collect();
    spans.sort_by_key(|s| s.1);
    // best[i]: the longest chain ending with span i.
    let mut best = vec![1usize; spans.len()];
    for i in 0..spans.len() {
        for j in 0..i {
            if spans[j].1 <= spans[i].0 {
                best[i] = best[i].max(best[j] + 1);
            }
        }
    }
    best.into_iter().max().unwrap_or(0)
}

/// GETs of the same resource repeated without any write in between: the
/// second answer could not have differed (unless someone else wrote). A
/// GET right before a write to the same resource is the deliberate check
/// for such a write (the schema is re-read before its whole-document PUT)
/// and is not counted.
pub fn repeated_reads(records: &[RequestRecord]) -> Vec<String> {
    let mut ordered: Vec<&RequestRecord> = records.iter().collect();
    ordered.sort_by_key(|r| r.started);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut repeats: BTreeMap<String, usize> = BTreeMap::new();
    for (i, r) in ordered.iter().enumerate() {
        if r.method != "GET" {
            seen.clear();
            continue;
        }
        if ordered
            .get(i + 1)
            .is_some_and(|next| next.method != "GET" && next.target == r.target)
        {
            continue;
        }
        let n = seen.entry(r.target.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            *repeats.entry(r.target.clone()).or_insert(1) += 1;
        }
    }
    repeats
        .into_iter()
        .map(|(t, n)| format!("GET {t} ({n} times)"))
        .collect()
}

/// A provisioning cycle of many users into the sandbox's SCIM server.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    pub users: usize,
    pub provisioned: usize,
    /// From Start to the cycle's end.
    pub cycle_ms: f64,
    /// Steps 1a–15 before it (counting the audience of `users`).
    pub setup_ms: f64,
    /// Peak resident memory of this process (engine and sandbox), KiB.
    pub peak_rss_kib: Option<u64>,
}

/// The built-in tenant with `users` generated users, all with a mail, all
/// in one group assigned to the Orchidea app.
///
/// # Panics
///
/// Only if the built-in tenant file, compiled in, is not JSON (the
/// sandbox's tests and this module's read it).
pub fn synthetic_tenant(users: usize) -> Value {
    let mut tenant: Value = serde_json::from_str(include_str!("sandbox/default-tenant.json"))
        .unwrap_or_else(|e| panic!("the built-in tenant: {e}"));
    let domain = tenant["tenant"]["domain"]
        .as_str()
        .unwrap_or("contoso.com")
        .to_string();
    let people: Vec<Value> = (0..users)
        .map(|i| {
            let id = uuid::Uuid::from_u128(0x5000_0000_0000_0000_0000_0000_0000 + i as u128);
            json!({
                "id": id.to_string(),
                "displayName": format!("User {i:05}"),
                "givenName": "User",
                "surname": format!("{i:05}"),
                "userPrincipalName": format!("user{i:05}@{domain}"),
                "mail": format!("user{i:05}@{domain}"),
                "mailNickname": format!("user{i:05}"),
                "accountEnabled": true,
            })
        })
        .collect();
    let members: Vec<Value> = people.iter().map(|p| p["id"].clone()).collect();
    let group = uuid::Uuid::from_u128(0x6000_0000_0000_0000_0000_0000_0001).to_string();
    tenant["users"] = Value::Array(people);
    tenant["groups"] = json!([{ "id": group, "displayName": "All staff", "members": members }]);
    for sp in tenant["servicePrincipals"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        sp["assignments"] = if sp["displayName"] == "Orchidea" {
            json!({ "users": [], "groups": [group] })
        } else {
            json!({ "users": [], "groups": [] })
        };
    }
    if let Some(obj) = tenant.as_object_mut() {
        // The built-in admin is not among the generated users.
        obj.remove("signedInUser");
    }
    tenant
}

/// Configures a sandbox tenant of `users` users and times the first cycle.
pub async fn provision_many(users: usize) -> Result<Throughput, BenchError> {
    let file = std::env::temp_dir().join(format!(
        "orchidea-bench-tenant-{}-{users}.json",
        std::process::id()
    ));
    std::fs::write(&file, synthetic_tenant(users).to_string())?;
    let started = Sandbox::start(SandboxOptions {
        tenant_file: Some(file.clone()),
        ..SandboxOptions::default()
    })
    .await;
    let _ = std::fs::remove_file(&file);
    let sandbox = started?;
    let mut cfg = setup::sandbox_config(
        &sandbox,
        None,
        Choices {
            scope: Scope::Assigned,
            ..Choices::default()
        },
    );
    cfg.watch_timeout = Duration::ZERO;
    let engine = Engine::new(cfg);
    let began = Instant::now();
    for step in StepId::ALL {
        if step != StepId::StartProvisioning {
            engine.run_step(step).await?;
        }
    }
    let setup = began.elapsed();
    let started = Instant::now();
    engine.run_step(StepId::StartProvisioning).await?;
    sandbox.wait_idle().await;
    let cycle = started.elapsed();
    let provisioned = sandbox.orchidea_user_count().await;
    sandbox.shutdown().await;
    Ok(Throughput {
        users,
        provisioned,
        cycle_ms: ms(cycle),
        setup_ms: ms(setup),
        peak_rss_kib: crate::platform::procinfo::memory_kib().map(|(_, peak)| peak),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::SandboxServer;

    fn rec(method: &str, target: &str, start_ms: u64, end_ms: u64, t0: Instant) -> RequestRecord {
        RequestRecord {
            server: SandboxServer::Graph,
            method: method.into(),
            target: target.into(),
            started: t0 + Duration::from_millis(start_ms),
            finished: t0 + Duration::from_millis(end_ms),
            status: 200,
            internal: false,
        }
    }

    #[test]
    fn the_chain_counts_only_requests_that_waited_for_each_other() {
        let t0 = Instant::now();
        // a, then b and c together, then d after both: a → b|c → d = 3.
        let records = [
            rec("GET", "/a", 0, 10, t0),
            rec("GET", "/b", 10, 20, t0),
            rec("GET", "/c", 11, 21, t0),
            rec("POST", "/d", 21, 30, t0),
        ];
        assert_eq!(longest_chain(&records), 3);
        assert_eq!(longest_chain(&[]), 0);
        // Strictly sequential: every request counts.
        let seq: Vec<_> = (0..5)
            .map(|i| rec("GET", &format!("/{i}"), i * 10, i * 10 + 10, t0))
            .collect();
        assert_eq!(longest_chain(&seq), 5);
    }

    #[test]
    fn repeated_reads_are_those_without_a_write_between() {
        let t0 = Instant::now();
        let records = [
            rec("GET", "/jobs", 0, 1, t0),
            rec("GET", "/jobs", 2, 3, t0),
            rec("PUT", "/secrets", 4, 5, t0),
            rec("GET", "/jobs", 6, 7, t0),
            rec("GET", "/schema", 8, 9, t0),
            // The re-read right before the schema PUT is a check, not a repeat.
            rec("GET", "/schema", 10, 11, t0),
            rec("PUT", "/schema", 12, 13, t0),
        ];
        assert_eq!(repeated_reads(&records), ["GET /jobs (2 times)"]);
    }

    #[test]
    fn the_synthetic_tenant_assigns_everyone_through_one_group() {
        let t = synthetic_tenant(25);
        assert_eq!(t["users"].as_array().unwrap().len(), 25);
        assert_eq!(t["groups"][0]["members"].as_array().unwrap().len(), 25);
        let parsed: crate::sandbox::tenant::TenantFile = serde_json::from_value(t).unwrap();
        assert_eq!(parsed.users.len(), 25);
    }
}
