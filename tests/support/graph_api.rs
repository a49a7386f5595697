//! A bare HTTP caller for the sandbox's Graph, independent of the wizard's
//! Graph client: what the sandbox tests speak.

use orchidea_wizard::sandbox::Sandbox;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Api {
    pub fn new(sandbox: &Sandbox) -> Api {
        Api {
            http: orchidea_wizard::platform::http::loopback_client(),
            base: sandbox.graph_url.as_str().trim_end_matches('/').to_string(),
            token: sandbox.graph_token.expose().to_string(),
        }
    }

    /// `path` under the Graph base, or a whole URL (a next link).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            request = request
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        answer(request).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Every item of a collection, following `@odata.nextLink`; and the pages.
    pub async fn get_all(&self, path: &str) -> (Vec<Value>, usize) {
        let (mut items, mut pages, mut next) = (Vec::new(), 0, Some(path.to_string()));
        while let Some(url) = next.take() {
            let a = self.get(&url).await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.body);
            items.extend(a.body["value"].as_array().unwrap().clone());
            next = a.body["@odata.nextLink"].as_str().map(str::to_string);
            pages += 1;
        }
        (items, pages)
    }

    pub async fn sp_id(&self, name: &str) -> String {
        let (sps, _) = self.get_all("/servicePrincipals").await;
        let sp = sps.iter().find(|s| s["displayName"] == name).unwrap();
        sp["id"].as_str().unwrap().to_string()
    }
}

pub async fn answer(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    Answer {
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        headers,
    }
}
