//! oauth2's HTTP client trait over our own reqwest client.
//!
//! oauth2 5's bundled client is for reqwest 0.12 and its reqwest 0.13 adapter
//! (`oauth2-reqwest`) is an exact-pinned alpha; the trait itself is oauth2 5's
//! stable API, so the few lines of glue live here and the tree keeps one
//! reqwest.

use std::future::Future;
use std::pin::Pin;

use oauth2::{AsyncHttpClient, HttpClientError, HttpRequest, HttpResponse, http};

/// A token-endpoint client: the caller's reqwest client (no redirects, its
/// proxy and TLS settings), as oauth2 calls it, reading answers within a cap.
#[derive(Clone)]
pub(crate) struct OAuthHttp(reqwest::Client);

impl From<reqwest::Client> for OAuthHttp {
    fn from(client: reqwest::Client) -> Self {
        Self(client)
    }
}

type Answer = Result<HttpResponse, HttpClientError<reqwest::Error>>;

impl<'c> AsyncHttpClient<'c> for OAuthHttp {
    type Error = HttpClientError<reqwest::Error>;
    type Future = Pin<Box<dyn Future<Output = Answer> + Send + Sync + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(Box::new)?;
            let response = self.0.execute(request).await.map_err(Box::new)?;
            let mut answer = http::Response::builder()
                .status(response.status())
                .version(response.version());
            for (name, value) in response.headers() {
                answer = answer.header(name, value);
            }
            // A captive portal or a broken proxy can answer anything, of any size.
            let body =
                crate::platform::http::read_body(response, crate::platform::http::TOKEN_BODY_CAP)
                    .await
                    .map_err(|e| match e {
                        crate::platform::http::BodyError::Transport(e) => {
                            HttpClientError::Reqwest(Box::new(e))
                        }
                        too_large @ crate::platform::http::BodyError::TooLarge { .. } => {
                            HttpClientError::Other(too_large.to_string())
                        }
                    })?;
            answer.body(body).map_err(HttpClientError::Http)
        })
    }
}
