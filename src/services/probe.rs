//! SCIM pre-flight: the requests Entra's Test Connection makes, with each failure named, explained and fixable.
//!
//! Entra's Test Connection "makes requests to fetch a random user and group"
//! (Entra docs `use-scim-to-provision-users-and-groups.md`, "General"): `GET
//! {Tenant URL}/Users?filter=userName eq "<random GUID>"` and `GET
//! /Groups?excludedAttributes=members&filter=displayName eq "<random GUID>"`
//! (the doc's "Get Group by displayName" request), with the secret as bearer,
//! expecting `200` with an empty `ListResponse`. Running the same requests
//! from this computer first turns Entra's terse failure into a cause and a fix.
//! `/ResourceTypes` (RFC 7644 §4) then tells whether Orchidea serves groups at
//! all ([`ProbeReport::groups`]), which decides the group mapping (step 9).
//!
//! Checks run in order and stop at the first failure: the later ones would
//! fail for the same reason and only add noise.
//!
//! [`report`] holds what comes back, [`fetch`] the requests and their
//! failures, [`checks`] one method per check; [`probe`] runs them in order.

pub mod checks;
pub mod fetch;
pub mod report;

use std::time::Instant;

use url::Url;

use crate::platform::secret::Secret;
use fetch::{Prober, base_url, host_port};
pub use report::*;

/// Runs the pre-flight against `scim_url` (the SCIM base, e.g. `…/scim/v2`).
pub async fn probe(
    http: &reqwest::Client,
    scim_url: &Url,
    secret: &Secret,
    opts: &ProbeOptions,
) -> ProbeReport {
    let started = Instant::now();
    let base = base_url(scim_url);
    let mut checks = Vec::new();
    let prober = Prober { http, secret, opts };

    // 0. A private host may answer here yet never answer Entra.
    if let Some(detail) = crate::services::orchidea::scim_host_warning(&base) {
        tracing::warn!("{detail}");
        checks.push(Check {
            name: CHECK_PUBLIC.into(),
            outcome: CheckOutcome::Warn {
                detail,
                fix: "If Orchidea runs inside your network, publish its SCIM endpoint on a public https:// address first.".into(),
            },
            elapsed_ms: 0,
        });
    }

    // 1. Reach: no bearer; any HTTP answer means DNS, TCP and TLS work.
    let reach = prober.fetch(&base, false).await;
    checks.push(match reach {
        Ok(f) => Check {
            name: CHECK_REACH.into(),
            outcome: CheckOutcome::Pass {
                detail: format!(
                    "{} answered over {} (HTTP {})",
                    host_port(&base),
                    base.scheme().to_uppercase(),
                    f.status
                ),
            },
            elapsed_ms: f.elapsed_ms,
        },
        Err((failure, elapsed_ms)) => Check {
            name: CHECK_REACH.into(),
            outcome: CheckOutcome::Fail(failure),
            elapsed_ms,
        },
    });

    // 2–6 do not depend on each other: asked together (one round trip
    // instead of five), reported in order up to the first failure.
    let mut groups = None;
    if !checks.iter().any(Check::is_failure) {
        let (user_name, (group, served), external_id, (types, listed), config) = futures::join!(
            prober.filter_check(CHECK_USERNAME, &base, "userName"),
            prober.group_check(&base),
            prober.filter_check(CHECK_EXTERNAL_ID, &base, "externalId"),
            prober.resource_types_check(&base),
            prober.config_check(&base),
        );
        for check in [user_name, group, external_id, types, config] {
            if checks.iter().any(Check::is_failure) {
                break;
            }
            checks.push(check);
        }
        if !checks.iter().any(Check::is_failure) {
            groups = listed.or(served);
        }
    }

    ProbeReport {
        checks,
        elapsed: started.elapsed(),
        groups,
    }
}
