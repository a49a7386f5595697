//! Step group "credentials" (steps 3–6, "step 5" included): the
//! provisioning job that Automatic mode creates from the app's template
//! (listing templates and jobs, creating and reading the job), Test
//! Connection (`validateCredentials`) and the saved synchronization
//! secrets (Tenant URL, Secret Token, notification settings).

use reqwest::Method;

use super::client::{Body, GraphClient};
use super::client::{job_what, to_bytes};
use super::errors::GraphError;
use super::types::{
    SecretEntry, SecretValue, SynchronizationJob, SynchronizationTemplate, secret_keys,
};
use crate::platform::secret::Secret;
use serde::Serialize;
use url::Url;

/// One `{key, value}` of a credentials body.
#[derive(Serialize)]
struct Pair<'a> {
    key: &'a str,
    value: &'a str,
}

impl GraphClient {
    pub async fn list_templates(
        &self,
        sp_id: &str,
    ) -> Result<Vec<SynchronizationTemplate>, GraphError> {
        let url = self.url(&["servicePrincipals", sp_id, "synchronization", "templates"]);
        let what = format!("the provisioning templates of application {sp_id}");
        self.get_all(url, &what).await
    }

    pub async fn list_jobs(&self, sp_id: &str) -> Result<Vec<SynchronizationJob>, GraphError> {
        let url = self.url(&["servicePrincipals", sp_id, "synchronization", "jobs"]);
        let what = format!("the provisioning jobs of application {sp_id}");
        self.get_all(url, &what).await
    }

    pub async fn create_job(
        &self,
        sp_id: &str,
        template_id: &str,
    ) -> Result<SynchronizationJob, GraphError> {
        let url = self.url(&["servicePrincipals", sp_id, "synchronization", "jobs"]);
        let body = serde_json::json!({ "templateId": template_id });
        let what = format!("application {sp_id} (creating its provisioning job)");
        self.json(Method::POST, url, Body::Json(&body), &what).await
    }

    pub async fn get_job(
        &self,
        sp_id: &str,
        job_id: &str,
    ) -> Result<SynchronizationJob, GraphError> {
        let url = self.job_url(sp_id, job_id, &[]);
        self.json(Method::GET, url, Body::None, &job_what(job_id))
            .await
    }

    /// Entra's Test Connection. `None` validates the saved credentials.
    pub async fn validate_credentials(
        &self,
        sp_id: &str,
        job_id: &str,
        creds: Option<(&str, &Secret)>,
    ) -> Result<(), GraphError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Request<'a> {
            use_saved_credentials: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            credentials: Option<[Pair<'a>; 2]>,
        }
        let body = Request {
            use_saved_credentials: creds.is_none(),
            credentials: creds.map(|(url, secret)| {
                [
                    Pair {
                        key: secret_keys::BASE_ADDRESS,
                        value: url,
                    },
                    Pair {
                        key: secret_keys::SECRET_TOKEN,
                        value: secret.expose(),
                    },
                ]
            }),
        };
        let url = self.job_url(sp_id, job_id, &["validateCredentials"]);
        match self
            .send(Method::POST, url, to_bytes(&body)?, &job_what(job_id))
            .await
        {
            Ok(_) => Ok(()),
            // A 400 here is the SCIM endpoint's answer, not a malformed request.
            Err(GraphError::Api {
                status: 400,
                code,
                message,
                request_id,
            }) => Err(GraphError::CredentialValidation {
                code,
                message,
                request_id,
            }),
            Err(e) => Err(e),
        }
    }

    /// The saved provisioning credentials and settings. Not on the v1.0 API
    /// pages; the Entra docs (skip-out-of-scope-deletions.md, the scoping
    /// preview) read them with this GET, answered as `{"value":[{key,value}]}`.
    /// Credentials come back as `"*"` ([`SecretValue::Masked`]).
    pub async fn get_secrets(&self, sp_id: &str) -> Result<Vec<SecretEntry>, GraphError> {
        #[derive(serde::Deserialize)]
        struct Wire {
            key: String,
            #[serde(default)]
            value: Option<String>,
        }
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Answer {
            Wrapped { value: Vec<Wire> },
            Bare(Vec<Wire>),
        }
        let url = self.secrets_url(sp_id);
        let what = format!("the provisioning credentials of application {sp_id}");
        let answer: Answer = self.json(Method::GET, url, Body::None, &what).await?;
        let (Answer::Wrapped { value } | Answer::Bare(value)) = answer;
        Ok(value
            .into_iter()
            .map(|w| SecretEntry::from_wire(w.key, w.value))
            .collect())
    }

    /// Replaces the whole credential set: send every key that must stay.
    pub async fn put_secrets(
        &self,
        sp_id: &str,
        entries: &[SecretEntry],
    ) -> Result<(), GraphError> {
        #[derive(Serialize)]
        struct Request<'a> {
            value: Vec<Pair<'a>>,
        }
        let value = entries
            .iter()
            .map(|e| {
                let value = match &e.value {
                    SecretValue::Plain(v) => v.as_str(),
                    SecretValue::Sensitive(s) => s.expose(),
                    // Writing "*" back would replace the saved secret with "*".
                    SecretValue::Masked => {
                        return Err(GraphError::MaskedSecret { key: e.key.clone() });
                    }
                };
                Ok(Pair { key: &e.key, value })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let what = format!("the provisioning credentials of application {sp_id}");
        self.send(
            Method::PUT,
            self.secrets_url(sp_id),
            to_bytes(&Request { value })?,
            &what,
        )
        .await
        .map(drop)
    }

    fn secrets_url(&self, sp_id: &str) -> Url {
        self.url(&["servicePrincipals", sp_id, "synchronization", "secrets"])
    }
}
