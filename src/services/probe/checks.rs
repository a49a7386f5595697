//! The checks, one method each: the user and group lookups Entra's Test
//! Connection makes, `/ResourceTypes` and `ServiceProviderConfig`.

use url::Url;

use super::fetch::{
    Fetched, GROUP_SCHEMA, LIST_RESPONSE, Prober, UNKNOWN_GROUPS, groups_query, push_segment,
    users_query,
};
use super::{CHECK_CONFIG, CHECK_GROUP, CHECK_RESOURCE_TYPES, Check, CheckOutcome, ProbeFailure};

impl Prober<'_> {
    pub(super) async fn filter_check(&self, name: &str, base: &Url, attribute: &str) -> Check {
        let value = uuid::Uuid::new_v4().to_string();
        let url = users_query(base, &format!("{attribute} eq \"{value}\""));
        let (outcome, elapsed_ms) = match self.fetch(&url, true).await {
            Ok(f) => {
                let outcome = self.judge_list(&f, base, attribute);
                let slow = u64::try_from(self.opts.slow_after.as_millis()).unwrap_or(u64::MAX);
                // A failure explains more than slowness; a slow pass is a failure.
                if f.elapsed_ms > slow && !matches!(outcome, CheckOutcome::Fail(_)) {
                    (
                        CheckOutcome::Fail(ProbeFailure::Slow {
                            elapsed_ms: f.elapsed_ms,
                            limit_ms: slow,
                        }),
                        f.elapsed_ms,
                    )
                } else {
                    (outcome, f.elapsed_ms)
                }
            }
            Err((failure, ms)) => (CheckOutcome::Fail(failure), ms),
        };
        Check {
            name: name.into(),
            outcome,
            elapsed_ms,
        }
    }

    /// Judges the answer to `GET /Users?filter=<attribute> eq "<random GUID>"`.
    fn judge_list(&self, f: &Fetched, base: &Url, attribute: &str) -> CheckOutcome {
        let fail = CheckOutcome::Fail;
        match f.status {
            200 => {}
            300..=399 => {
                return fail(ProbeFailure::Redirect {
                    status: f.status,
                    location: f.location.clone(),
                });
            }
            401 => return fail(ProbeFailure::Unauthorized),
            403 => return fail(ProbeFailure::Forbidden),
            404 => {
                return fail(ProbeFailure::WrongBasePath {
                    url: base.to_string(),
                });
            }
            400 => {
                let detail = self.scim_error_detail(&f.body);
                return fail(ProbeFailure::FilterUnsupported {
                    detail: match detail {
                        Some(d) => {
                            format!("it answered 400 Bad Request to {attribute} eq \"…\" ({d})")
                        }
                        None => format!("it answered 400 Bad Request to {attribute} eq \"…\""),
                    },
                });
            }
            501 => {
                return fail(ProbeFailure::FilterUnsupported {
                    detail: "it answered 501 Not Implemented to a filtered query".into(),
                });
            }
            500..=599 => return fail(ProbeFailure::ServerError { status: f.status }),
            other => {
                return fail(ProbeFailure::NotScim {
                    detail: format!("it answered HTTP {other} to GET /Users"),
                });
            }
        }
        let mime = f
            .content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let mut warnings = Vec::new();
        match mime.as_str() {
            "application/scim+json" => {}
            "application/json" => warnings.push(
                "it answers with Content-Type application/json instead of application/scim+json",
            ),
            "" => {
                return fail(ProbeFailure::NotScim {
                    detail: "its answer has no content type".into(),
                });
            }
            other => {
                let what = if other.contains("html") {
                    format!("it answered with a web page ({other}), not SCIM JSON")
                } else {
                    format!("it answered with {other}, not SCIM JSON")
                };
                return fail(ProbeFailure::NotScim { detail: what });
            }
        }
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(&f.body) else {
            return fail(ProbeFailure::NotScim {
                detail: "its answer is not valid JSON".into(),
            });
        };
        let Some(total) = json.get("totalResults").and_then(serde_json::Value::as_u64) else {
            return fail(ProbeFailure::NotScim {
                detail: "its answer is JSON but not a SCIM ListResponse (no totalResults)".into(),
            });
        };
        let listed = json
            .get("Resources")
            .and_then(serde_json::Value::as_array)
            .map_or(0, Vec::len);
        if total > 0 || listed > 0 {
            return fail(ProbeFailure::FilterUnsupported {
                detail: format!(
                    "asked for a {attribute} that cannot exist, it returned {} user(s), so it ignores the filter",
                    total.max(listed as u64)
                ),
            });
        }
        let is_list = json
            .get("schemas")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|s| s.iter().any(|v| v == LIST_RESPONSE));
        if !is_list {
            warnings.push("its ListResponse does not name the ListResponse schema");
        }
        if warnings.is_empty() {
            CheckOutcome::Pass {
                detail: format!("200 with an empty ListResponse for a random {attribute}"),
            }
        } else {
            CheckOutcome::Warn {
                detail: format!("Works, but {}", warnings.join("; and ")),
                fix: "Entra accepts this; nothing to do.".into(),
            }
        }
    }

    /// Test Connection's second request. Groups are optional for a SCIM app
    /// (the Entra doc: "You are not required to support both users and
    /// groups"), so a 404 passes and only says there are none; the answers
    /// that fail the user request fail this one too. Also returns whether
    /// the answer shows groups are served.
    pub(super) async fn group_check(&self, base: &Url) -> (Check, Option<bool>) {
        let value = uuid::Uuid::new_v4().to_string();
        let url = groups_query(base, &format!("displayName eq \"{value}\""));
        let (outcome, served, elapsed_ms) = match self.fetch(&url, true).await {
            Err((failure, ms)) => (CheckOutcome::Fail(failure), None, ms),
            Ok(f) if f.status == 404 => (
                CheckOutcome::Pass {
                    detail: "404: no /Groups endpoint, so Orchidea receives no groups".into(),
                },
                Some(false),
                f.elapsed_ms,
            ),
            Ok(f) => {
                let outcome = match self.judge_list(&f, base, "displayName") {
                    CheckOutcome::Pass { .. } => CheckOutcome::Pass {
                        detail: "200 with an empty ListResponse for a random group displayName"
                            .into(),
                    },
                    CheckOutcome::Fail(
                        failure @ (ProbeFailure::Unauthorized
                        | ProbeFailure::Forbidden
                        | ProbeFailure::ServerError { .. }
                        | ProbeFailure::Redirect { .. }),
                    ) => CheckOutcome::Fail(failure),
                    CheckOutcome::Fail(other) => CheckOutcome::Warn {
                        detail: format!("The group request did not work: {}", other.cause()),
                        fix: "Orchidea provisions users only; if groups should reach it, contact Orchidea support.".into(),
                    },
                    warn @ CheckOutcome::Warn { .. } => warn,
                };
                let served = (f.status == 200).then_some(true);
                (outcome, served, f.elapsed_ms)
            }
        };
        let check = Check {
            name: CHECK_GROUP.into(),
            outcome,
            elapsed_ms,
        };
        (check, served)
    }

    /// Informational: reads `/ResourceTypes` (RFC 7644 §4) and says whether
    /// a `Group` resource type is listed (`None` when it cannot be read).
    pub(super) async fn resource_types_check(&self, base: &Url) -> (Check, Option<bool>) {
        let mut url = base.clone();
        push_segment(&mut url, "ResourceTypes");
        let (outcome, listed, elapsed_ms) = match self.fetch(&url, true).await {
            Err((failure, ms)) => (
                CheckOutcome::Warn {
                    detail: failure.cause(),
                    fix: UNKNOWN_GROUPS.into(),
                },
                None,
                ms,
            ),
            Ok(f) => {
                let json = serde_json::from_slice::<serde_json::Value>(&f.body).ok();
                let listed = match (f.status, &json) {
                    (200, Some(json)) => json["Resources"].as_array().map(|types| {
                        types.iter().any(|t| {
                            t["name"] == "Group"
                                || t["id"] == "Group"
                                || t["schema"] == GROUP_SCHEMA
                        })
                    }),
                    _ => None,
                };
                let outcome = match listed {
                    Some(true) => CheckOutcome::Pass {
                        detail: "It serves users and groups: the group mapping stays enabled".into(),
                    },
                    Some(false) => CheckOutcome::Pass {
                        detail: "It lists no Group resource type: step 9 disables the group mapping, so Entra does not push groups it cannot take".into(),
                    },
                    None => CheckOutcome::Warn {
                        detail: format!("/ResourceTypes could not be read (HTTP {})", f.status),
                        fix: UNKNOWN_GROUPS.into(),
                    },
                };
                (outcome, listed, f.elapsed_ms)
            }
        };
        let check = Check {
            name: CHECK_RESOURCE_TYPES.into(),
            outcome,
            elapsed_ms,
        };
        (check, listed)
    }

    /// Informational only: a missing or odd `ServiceProviderConfig` warns.
    pub(super) async fn config_check(&self, base: &Url) -> Check {
        let mut url = base.clone();
        push_segment(&mut url, "ServiceProviderConfig");
        let warn = |detail: String, fix: &str| CheckOutcome::Warn {
            detail,
            fix: fix.into(),
        };
        let nothing = "Entra's Test Connection does not need it; nothing to do.";
        let (outcome, elapsed_ms) = match self.fetch(&url, true).await {
            Err((failure, ms)) => (warn(failure.cause(), nothing), ms),
            Ok(f) => {
                let json = serde_json::from_slice::<serde_json::Value>(&f.body).ok();
                let outcome = match (f.status, json) {
                    (200, Some(json)) if json.is_object() => {
                        let supported = |k: &str| json[k]["supported"].as_bool().unwrap_or(false);
                        let max = json["filter"]["maxResults"].as_u64();
                        let detail = format!(
                            "PATCH {}, filter {}{}",
                            if supported("patch") {
                                "supported"
                            } else {
                                "not supported"
                            },
                            if supported("filter") {
                                "supported"
                            } else {
                                "not supported"
                            },
                            max.map(|m| format!(" (up to {m} results)"))
                                .unwrap_or_default()
                        );
                        if supported("patch") {
                            CheckOutcome::Pass { detail }
                        } else {
                            warn(
                                detail,
                                "Entra updates and disables users with PATCH; ask Orchidea support whether PATCH works.",
                            )
                        }
                    }
                    (200, _) => warn("It answered, but not with JSON".into(), nothing),
                    (status, _) => warn(format!("Not available (HTTP {status})"), nothing),
                };
                (outcome, f.elapsed_ms)
            }
        };
        Check {
            name: CHECK_CONFIG.into(),
            outcome,
            elapsed_ms,
        }
    }
}
