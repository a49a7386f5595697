//! Step group "mappings" (steps 7–13): the job's synchronization schema,
//! read and written whole (Graph accepts PUT only), as JSON or as the
//! exact bytes a backup keeps.

use reqwest::Method;
use serde_json::Value;

use super::client::job_what;
use super::client::{Body, GraphClient};
use super::errors::GraphError;

impl GraphClient {
    /// The job's `synchronizationSchema`, untouched.
    pub async fn get_schema(&self, sp_id: &str, job_id: &str) -> Result<Value, GraphError> {
        let url = self.job_url(sp_id, job_id, &["schema"]);
        let what = format!("the attribute mappings of {}", job_what(job_id));
        self.json(Method::GET, url, Body::None, &what).await
    }

    /// The job's `synchronizationSchema`: the bytes of Graph's answer, for
    /// backups that keep exactly what Graph returned.
    pub async fn get_schema_raw(&self, sp_id: &str, job_id: &str) -> Result<Vec<u8>, GraphError> {
        let url = self.job_url(sp_id, job_id, &["schema"]);
        let what = format!("the attribute mappings of {}", job_what(job_id));
        self.send(Method::GET, url, Body::None, &what).await
    }

    /// Writes `body` as the whole schema, byte for byte (a restore).
    pub async fn put_schema_raw(
        &self,
        sp_id: &str,
        job_id: &str,
        body: Vec<u8>,
    ) -> Result<(), GraphError> {
        let url = self.job_url(sp_id, job_id, &["schema"]);
        let what = format!("the attribute mappings of {}", job_what(job_id));
        self.send(Method::PUT, url, Body::Bytes(body), &what)
            .await
            .map(drop)
    }

    /// Writes the whole schema (Graph accepts PUT only), exactly as given.
    pub async fn put_schema(
        &self,
        sp_id: &str,
        job_id: &str,
        schema: &Value,
    ) -> Result<(), GraphError> {
        let url = self.job_url(sp_id, job_id, &["schema"]);
        let what = format!("the attribute mappings of {}", job_what(job_id));
        self.send(Method::PUT, url, Body::Json(schema), &what)
            .await
            .map(drop)
    }
}
