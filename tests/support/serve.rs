//! A throwaway HTTP server on 127.0.0.1 for tests that stand in for a
//! service.

/// Serves `app` on 127.0.0.1:0 and returns `http://127.0.0.1:<port>`.
pub async fn serve(app: axum::Router) -> url::Url {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://127.0.0.1:{port}").parse().unwrap()
}
