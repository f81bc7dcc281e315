//! HTTP clients that talk to a test portal as its own pages do, and their decoded answers.

use reqwest::StatusCode;
use serde_json::Value;

use super::keys::KeyPair;
use super::stack;

/// An HTTP client bound to one portal.
pub struct Client {
    pub http: reqwest::Client,
    pub(super) base: String,
}

/// A decoded answer: status, headers and JSON body (`Value::Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub async fn from(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON body: {text}"))
        };
        Self {
            status,
            headers,
            body,
        }
    }

    /// Asserts the error shape and code; returns the message.
    pub fn expect_error(&self, status: StatusCode, code: &str) -> String {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.body["error"], code, "body: {}", self.body);
        let request_id = self.body["request_id"].as_str().expect("request_id");
        assert_eq!(
            self.headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok()),
            Some(request_id),
            "error body and header carry the same request id"
        );
        self.body["message"].as_str().expect("message").to_owned()
    }

    /// The session cookie the answer set, if any, as `name=value`.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.contains("opsportal_session="))
            .map(|c| c.split(';').next().unwrap_or_default().to_owned())
    }
}

impl Client {
    pub async fn get(&self, path: &str) -> Answer {
        Answer::from(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .expect("GET"),
        )
        .await
    }

    /// The body of a successful `GET path` as text, for answers that are not JSON.
    pub async fn get_text(&self, path: &str) -> String {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET");
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.text().await.expect("body")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        let request = self.http.post(format!("{}{path}", self.base)).json(body);
        Answer::from(request.send().await.expect("POST")).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        Answer::from(
            self.http
                .delete(format!("{}{path}", self.base))
                .send()
                .await
                .expect("DELETE"),
        )
        .await
    }

    /// A root certificate for a new Ed25519 key, which must be issued; the client is signed
    /// in already. Returns the key pair and the issued certificate's body.
    pub async fn root_certificate(&self) -> (KeyPair, Value) {
        let key = KeyPair::ed25519();
        let issued = self.issue(&key.public, Some(&["root"]), None).await;
        assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
        (key, issued.body)
    }

    /// Asks for a certificate of `public_key`.
    pub async fn issue(
        &self,
        public_key: &str,
        principals: Option<&[&str]>,
        ttl_secs: Option<u64>,
    ) -> Answer {
        let mut body = serde_json::json!({ "public_key": public_key });
        if let Some(principals) = principals {
            body["principals"] = serde_json::json!(principals);
        }
        if let Some(ttl) = ttl_secs {
            body["ttl_secs"] = serde_json::json!(ttl);
        }
        self.post("/api/certificates", &body).await
    }

    pub async fn sign_in(&self, username: &str, password: &str) -> Answer {
        self.post(
            "/api/session",
            &serde_json::json!({ "username": username, "password": password }),
        )
        .await
    }

    /// Signs in as a demo person with their password, whatever the outcome.
    pub async fn sign_in_as_unchecked(&self, username: &str) -> Answer {
        self.sign_in(username, &stack().person(username).password)
            .await
    }

    /// Signs in as a demo person with their password and asserts success.
    pub async fn sign_in_as(&self, username: &str) -> Answer {
        let answer = self.sign_in_as_unchecked(username).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "sign-in as {username}: {}",
            answer.body
        );
        answer
    }
}
