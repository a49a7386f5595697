//! Step group "start" (step 16): starting, pausing and restarting the
//! job, provisioning one user on demand, and reading the provisioning
//! logs that show what a cycle did.

use reqwest::Method;
use serde_json::Value;

use super::client::{Body, GraphClient, next_page};
use super::client::{Page, encode_query_value, job_what, odata_string};
use super::errors::GraphError;
use super::paging;
use super::provisioning::{OnDemandResult, ProvisioningEvent};

/// What a restart asks Entra to reset
/// (`synchronization-synchronizationjobrestartcriteria.md`). `Full` and
/// `ConnectorDataStore` are never sent: `Full` includes `ForceDeletes`
/// and `ConnectorDataStore` ("DO NOT USE").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartScope {
    /// The portal's "Restart provisioning": `resetScope` left empty
    /// (quarantine, escrows and watermark; held deletions stay held).
    Ordinary,
    /// The portal's "Allow deletes": the deletions the accidental-deletions
    /// threshold held back go through, and the quarantine is lifted.
    ForceDeletes,
}

impl RestartScope {
    /// The request body.
    pub fn body(self) -> Value {
        match self {
            RestartScope::Ordinary => serde_json::json!({ "criteria": {} }),
            RestartScope::ForceDeletes => {
                serde_json::json!({ "criteria": { "resetScope": "ForceDeletes, QuarantineState" } })
            }
        }
    }
}

impl GraphClient {
    pub async fn start_job(&self, sp_id: &str, job_id: &str) -> Result<(), GraphError> {
        self.job_action(sp_id, job_id, "start", Body::None).await
    }

    /// `DELETE …/jobs/{id}` (`synchronization-synchronizationjob-delete.md`): 204.
    pub async fn delete_job(&self, sp_id: &str, job_id: &str) -> Result<(), GraphError> {
        let url = self.job_url(sp_id, job_id, &[]);
        self.send(Method::DELETE, url, Body::None, &job_what(job_id))
            .await
            .map(drop)
    }

    pub async fn pause_job(&self, sp_id: &str, job_id: &str) -> Result<(), GraphError> {
        self.job_action(sp_id, job_id, "pause", Body::None).await
    }

    /// `POST …/restart` (`synchronization-synchronizationjob-restart.md`):
    /// an ordinary restart leaves `resetScope` empty, which "emulates the
    /// Restart provisioning option" of the portal
    /// (`synchronization-synchronizationjobrestartcriteria.md`).
    pub async fn restart_job(
        &self,
        sp_id: &str,
        job_id: &str,
        scope: RestartScope,
    ) -> Result<(), GraphError> {
        let body = scope.body();
        self.job_action(sp_id, job_id, "restart", Body::Json(&body))
            .await
    }

    /// Provisions one user now, through the rule `rule_id` of the job's schema.
    pub async fn provision_on_demand(
        &self,
        sp_id: &str,
        job_id: &str,
        rule_id: &str,
        user_id: &str,
    ) -> Result<OnDemandResult, GraphError> {
        let url = self.job_url(sp_id, job_id, &["provisionOnDemand"]);
        let body = serde_json::json!({
            "parameters": [{
                "ruleId": rule_id,
                "subjects": [{ "objectId": user_id, "objectTypeName": "User" }],
            }]
        });
        let what = format!("on-demand provisioning of user {user_id}");
        let raw: Value = self
            .json(Method::POST, url, Body::Json(&body), &what)
            .await?;
        OnDemandResult::from_response(&raw).map_err(|e| GraphError::UnexpectedBody {
            what,
            detail: e.to_string(),
        })
    }

    /// The job's events with `provisioningAction` `action` (e.g.
    /// `stagedDelete`: deletions held back by the threshold), newest first,
    /// `top` per page: every page of the newest cycle that logged one, so
    /// none of its events is missed, and no more once a page reaches an
    /// older cycle.
    pub async fn newest_cycle_events_by_action(
        &self,
        job_id: &str,
        action: &str,
        top: usize,
    ) -> Result<Vec<ProvisioningEvent>, GraphError> {
        let what = "the provisioning logs";
        let mut url = self.url(&["auditLogs", "provisioning"]);
        let filter = format!(
            "jobId eq {} and provisioningAction eq {}",
            odata_string(job_id),
            odata_string(action)
        );
        url.set_query(Some(&format!(
            "$filter={}&$top={top}",
            encode_query_value(&filter)
        )));
        let mut out: Vec<ProvisioningEvent> = Vec::new();
        let mut pager = paging::Pager::new(self.base(), &url);
        let mut next = Some(url);
        while let Some(url) = next.take() {
            let page: Page<ProvisioningEvent> =
                self.json(Method::GET, url, Body::None, what).await?;
            let cycle = out
                .first()
                .or(page.value.first())
                .and_then(|e| e.cycle_id.clone());
            let older = page.value.iter().any(|e| e.cycle_id != cycle);
            out.extend(page.value);
            if let Some(link) = page.next_link.filter(|_| !older) {
                next = Some(next_page(&mut pager, &link, what)?);
            }
        }
        Ok(out)
    }

    /// The newest `top` provisioning events of the job, newest first (one
    /// page: the log can hold millions of lines).
    pub async fn provisioning_events(
        &self,
        job_id: &str,
        top: usize,
    ) -> Result<Vec<ProvisioningEvent>, GraphError> {
        let mut url = self.url(&["auditLogs", "provisioning"]);
        let filter = format!("jobId eq {}", odata_string(job_id));
        url.set_query(Some(&format!(
            "$filter={}&$top={top}",
            encode_query_value(&filter)
        )));
        self.first_page(url, "the provisioning logs").await
    }

    async fn job_action(
        &self,
        sp_id: &str,
        job_id: &str,
        action: &str,
        body: Body<'_>,
    ) -> Result<(), GraphError> {
        let url = self.job_url(sp_id, job_id, &[action]);
        self.send(Method::POST, url, body, &job_what(job_id))
            .await
            .map(drop)
    }
}
