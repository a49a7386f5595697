//! Which delegated permissions each Graph call needs, from the
//! "Permissions" table of its v1.0 API page (the "Delegated (work or school
//! account)" row). One table for both sides: the sandbox refuses a token
//! that carries none of a route's accepted sets (403
//! `Authorization_RequestDenied`), and the wizard names the permission a
//! refused call needed.
//!
//! Each rule lists the accepted permission sets, least privileged first;
//! a set is all-of ("AppRoleAssignment.ReadWrite.All and
//! Application.Read.All"), the sets are any-of. Only what the table lists
//! is accepted: a `ReadWrite` permission does not stand in for a `Read`
//! one unless the page names it (the stricter reading; Graph's tables list
//! the higher permissions they accept).

/// One Graph route: method, path under `/v1.0` (`{}` is one segment),
/// the accepted permission sets and the page they come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub method: &'static str,
    pub path: &'static str,
    pub accepted: &'static [&'static [&'static str]],
    pub page: &'static str,
    /// `false` where no v1.0 page documents the call and the sets are assumed.
    pub documented: bool,
}

const SYNC_READ: &[&[&str]] = &[
    &["Synchronization.Read.All"],
    &["Synchronization.ReadWrite.All"],
];
const SYNC_WRITE: &[&[&str]] = &[&["Synchronization.ReadWrite.All"]];
const APP_READ: &[&[&str]] = &[
    &["Application.Read.All"],
    &["Application.ReadWrite.All"],
    &["Directory.Read.All"],
    &["Directory.ReadWrite.All"],
];
const GROUP_READ: &[&[&str]] = &[
    &["GroupMember.Read.All"],
    &["Group.ReadWrite.All"],
    &["Directory.Read.All"],
    &["Directory.ReadWrite.All"],
    &["Group.Read.All"],
];

const fn rule(
    method: &'static str,
    path: &'static str,
    accepted: &'static [&'static [&'static str]],
    page: &'static str,
) -> Rule {
    Rule {
        method,
        path,
        accepted,
        page,
        documented: true,
    }
}

/// Every route the sandbox serves and the wizard calls.
pub const RULES: &[Rule] = &[
    rule(
        "GET",
        "/servicePrincipals",
        &[
            &["Application.Read.All"],
            &["Application.ReadWrite.All"],
            &["Directory.Read.All"],
            &["Directory.ReadWrite.All"],
            &["Directory.AccessAsUser.All"],
        ],
        "serviceprincipal-list.md",
    ),
    rule(
        "GET",
        "/servicePrincipals/{}",
        &[
            &["Application.Read.All"],
            &["Application.ReadWrite.All"],
            &["Directory.Read.All"],
            &["Directory.ReadWrite.All"],
        ],
        "serviceprincipal-get.md",
    ),
    rule(
        "GET",
        "/servicePrincipals/{}/appRoleAssignedTo",
        &[
            &["Application.Read.All"],
            &["Directory.Read.All"],
            &["Application.ReadWrite.All"],
            &["Directory.ReadWrite.All"],
        ],
        "serviceprincipal-list-approleassignedto.md",
    ),
    rule(
        "POST",
        "/servicePrincipals/{}/appRoleAssignedTo",
        &[
            &["AppRoleAssignment.ReadWrite.All", "Application.Read.All"],
            &["AppRoleAssignment.ReadWrite.All", "Directory.Read.All"],
        ],
        "serviceprincipal-post-approleassignedto.md",
    ),
    rule(
        "PATCH",
        "/servicePrincipals/{}",
        &[&["Application.ReadWrite.All"], &["Directory.ReadWrite.All"]],
        "serviceprincipal-update.md",
    ),
    rule(
        "POST",
        "/servicePrincipals/{}/addTokenSigningCertificate",
        &[&["Application.ReadWrite.All"], &["Directory.ReadWrite.All"]],
        "serviceprincipal-addtokensigningcertificate.md",
    ),
    rule("GET", "/applications", APP_READ, "application-list.md"),
    rule("GET", "/applications/{}", APP_READ, "application-get.md"),
    rule(
        "PATCH",
        "/applications/{}",
        &[&["Application.ReadWrite.All"]],
        "application-update.md",
    ),
    rule(
        "POST",
        "/applicationTemplates/{}/instantiate",
        &[&["Application.ReadWrite.All"], &["Directory.ReadWrite.All"]],
        "applicationtemplate-instantiate.md",
    ),
    rule(
        "GET",
        "/me",
        &[
            &["User.Read"],
            &["User.ReadWrite"],
            &["User.ReadBasic.All"],
            &["User.Read.All"],
            &["User.ReadWrite.All"],
            &["Directory.Read.All"],
            &["Directory.ReadWrite.All"],
        ],
        "user-get.md",
    ),
    rule(
        "GET",
        "/me/transitiveMemberOf/microsoft.graph.directoryRole",
        &[
            &["User.Read"],
            &["User.Read.All"],
            &["GroupMember.Read.All"],
            &["Group.Read.All"],
            &["Directory.Read.All"],
            &["Directory.ReadWrite.All"],
        ],
        "user-list-transitivememberof.md",
    ),
    rule(
        "GET",
        "/users",
        &[
            &["User.ReadBasic.All"],
            &["User.Read.All"],
            &["User.ReadWrite.All"],
            &["Directory.Read.All"],
            &["Directory.ReadWrite.All"],
        ],
        "user-list.md",
    ),
    // user-get.md's table starts at User.Read, but its note says User.Read
    // reaches the signed-in user only: another user needs a `.All` one.
    rule(
        "GET",
        "/users/{}",
        &[
            &["User.ReadBasic.All"],
            &["User.Read.All"],
            &["User.ReadWrite.All"],
            &["Directory.Read.All"],
            &["Directory.ReadWrite.All"],
        ],
        "user-get.md",
    ),
    rule("GET", "/groups", GROUP_READ, "group-list.md"),
    rule("GET", "/groups/{}", GROUP_READ, "group-get.md"),
    rule(
        "GET",
        "/groups/{}/members",
        &[
            &["GroupMember.Read.All"],
            &["Directory.Read.All"],
            &["Group.Read.All"],
            &["Group.ReadWrite.All"],
            &["GroupMember.ReadWrite.All"],
        ],
        "group-list-members.md",
    ),
    rule(
        "GET",
        "/servicePrincipals/{}/synchronization/templates",
        SYNC_READ,
        "synchronization-synchronizationtemplate-list.md",
    ),
    rule(
        "GET",
        "/servicePrincipals/{}/synchronization/jobs",
        SYNC_READ,
        "synchronization-synchronizationjob-list.md",
    ),
    rule(
        "POST",
        "/servicePrincipals/{}/synchronization/jobs",
        SYNC_WRITE,
        "synchronization-synchronization-post-jobs.md",
    ),
    rule(
        "GET",
        "/servicePrincipals/{}/synchronization/jobs/{}",
        SYNC_READ,
        "synchronization-synchronizationjob-get.md",
    ),
    rule(
        "DELETE",
        "/servicePrincipals/{}/synchronization/jobs/{}",
        SYNC_WRITE,
        "synchronization-synchronizationjob-delete.md",
    ),
    rule(
        "GET",
        "/servicePrincipals/{}/synchronization/jobs/{}/schema",
        SYNC_READ,
        "synchronization-synchronizationschema-get.md",
    ),
    rule(
        "PUT",
        "/servicePrincipals/{}/synchronization/jobs/{}/schema",
        SYNC_WRITE,
        "synchronization-synchronizationschema-update.md",
    ),
    rule(
        "POST",
        "/servicePrincipals/{}/synchronization/jobs/{}/validateCredentials",
        SYNC_WRITE,
        "synchronization-synchronizationjob-validatecredentials.md",
    ),
    rule(
        "POST",
        "/servicePrincipals/{}/synchronization/jobs/{}/start",
        SYNC_WRITE,
        "synchronization-synchronizationjob-start.md",
    ),
    rule(
        "POST",
        "/servicePrincipals/{}/synchronization/jobs/{}/pause",
        SYNC_WRITE,
        "synchronization-synchronizationjob-pause.md",
    ),
    rule(
        "POST",
        "/servicePrincipals/{}/synchronization/jobs/{}/restart",
        SYNC_WRITE,
        "synchronization-synchronizationjob-restart.md",
    ),
    rule(
        "POST",
        "/servicePrincipals/{}/synchronization/jobs/{}/provisionOnDemand",
        SYNC_WRITE,
        "synchronization-synchronizationjob-provisionondemand.md",
    ),
    rule(
        "PUT",
        "/servicePrincipals/{}/synchronization/secrets",
        SYNC_WRITE,
        "synchronization-serviceprincipal-put-synchronization.md",
    ),
    // Not in the v1.0 reference: it returns the saved credentials, so the
    // stricter reading is the write permission that saves them.
    Rule {
        method: "GET",
        path: "/servicePrincipals/{}/synchronization/secrets",
        accepted: SYNC_WRITE,
        page: "synchronization-serviceprincipal-put-synchronization.md (PUT only; GET assumed)",
        documented: false,
    },
    rule(
        "GET",
        "/auditLogs/provisioning",
        &[&["AuditLog.Read.All"]],
        "provisioningobjectsummary-list.md",
    ),
];

/// The rule for `method` on `path` (the part after `/v1.0`, no query).
pub fn rule_for(method: &str, path: &str) -> Option<&'static Rule> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    RULES.iter().find(|r| {
        let pattern: Vec<&str> = r.path.split('/').filter(|s| !s.is_empty()).collect();
        r.method.eq_ignore_ascii_case(method)
            && pattern.len() == segments.len()
            && pattern
                .iter()
                .zip(&segments)
                .all(|(p, s)| *p == "{}" || p.eq_ignore_ascii_case(s))
    })
}

impl Rule {
    /// Whether `granted` (permission names) holds one of the accepted sets.
    pub fn allows<S: AsRef<str>>(&self, granted: &[S]) -> bool {
        self.accepted.iter().any(|set| {
            set.iter()
                .all(|p| granted.iter().any(|g| g.as_ref().eq_ignore_ascii_case(p)))
        })
    }

    /// The least-privileged set, as the admin reads it ("A and B").
    pub fn least(&self) -> String {
        self.accepted
            .first()
            .map_or_else(String::new, |set| set.join(" and "))
    }
}

/// A scope as requested or granted (`https://graph.microsoft.com/User.Read`,
/// `User.Read`) → the Graph permission name; `None` for the `OpenID`
/// Connect scopes, which are not Graph permissions.
pub fn permission_name(scope: &str) -> Option<&str> {
    let name = scope.rsplit('/').next().unwrap_or(scope).trim();
    match name {
        "" | "openid" | "profile" | "email" | "offline_access" => None,
        n => Some(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_by_segment_and_method() {
        let post = rule_for("POST", "/servicePrincipals/abc/appRoleAssignedTo").unwrap();
        assert_eq!(post.page, "serviceprincipal-post-approleassignedto.md");
        let get = rule_for("get", "/servicePrincipals/abc/appRoleAssignedTo").unwrap();
        assert_eq!(get.page, "serviceprincipal-list-approleassignedto.md");
        assert!(rule_for("GET", "/servicePrincipals/abc/owners").is_none());
        assert_eq!(
            rule_for("GET", "/servicePrincipals/a/synchronization/jobs/j/schema")
                .unwrap()
                .page,
            "synchronization-synchronizationschema-get.md"
        );
    }

    #[test]
    fn a_combination_needs_both_parts() {
        let post = rule_for("POST", "/servicePrincipals/x/appRoleAssignedTo").unwrap();
        assert!(!post.allows(&["Application.ReadWrite.All"]));
        assert!(!post.allows(&["AppRoleAssignment.ReadWrite.All"]));
        assert!(post.allows(&["AppRoleAssignment.ReadWrite.All", "Application.Read.All"]));
        assert!(post.allows(&["directory.read.all", "AppRoleAssignment.ReadWrite.All"]));
        assert_eq!(
            post.least(),
            "AppRoleAssignment.ReadWrite.All and Application.Read.All"
        );
    }

    #[test]
    fn a_higher_listed_permission_is_accepted() {
        let list = rule_for("GET", "/servicePrincipals").unwrap();
        assert!(list.allows(&["Application.ReadWrite.All"]));
        assert!(!list.allows(&["User.Read.All"]));
        // User.Read reaches only the signed-in user.
        assert!(rule_for("GET", "/me").unwrap().allows(&["User.Read"]));
        assert!(!rule_for("GET", "/users/u1").unwrap().allows(&["User.Read"]));
    }

    #[test]
    fn scope_uris_become_permission_names() {
        assert_eq!(
            permission_name("https://graph.microsoft.com/User.Read"),
            Some("User.Read")
        );
        assert_eq!(
            permission_name("http://127.0.0.1:4711/AuditLog.Read.All"),
            Some("AuditLog.Read.All")
        );
        assert_eq!(permission_name("offline_access"), None);
        assert_eq!(permission_name("openid"), None);
    }
}
