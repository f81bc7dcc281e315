//! Headless Chromium through chromedriver, for tests that use the real web app.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// A chromedriver process and a browser session; both end on drop.
pub struct Browser {
    pub client: Client,
    /// Where the browser saves downloads.
    pub downloads: std::path::PathBuf,
    driver: Child,
    profile: std::path::PathBuf,
}

impl Browser {
    pub async fn start() -> Self {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) runs");
        let profile =
            std::env::temp_dir().join(format!("opsportal-chromium-{}", uuid::Uuid::new_v4()));
        let downloads = profile.with_extension("downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        let capabilities = json!({
            "goog:chromeOptions": {
                "prefs": {
                    "download.default_directory": downloads.display().to_string(),
                    "download.prompt_for_download": false,
                    "download.directory_upgrade": true,
                },
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let capabilities = capabilities.as_object().unwrap().clone();
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..50 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Self {
                        client,
                        downloads,
                        driver,
                        profile,
                    };
                }
                Err(error) => last_error = Some(error),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("cannot start a browser session: {last_error:?}");
    }

    /// Waits for the browser to have saved `name` in its download folder; returns the text.
    pub async fn downloaded(&self, name: &str) -> String {
        let path = self.downloads.join(name);
        for _ in 0..100 {
            if let Some(text) = std::fs::read_to_string(&path)
                .ok()
                .filter(|t| !t.is_empty())
            {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the browser saved no {name} in {}",
            self.downloads.display()
        );
    }

    /// Ends the session cleanly (drop only kills the processes).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A test that fails before closing its session leaves Chromium running after
        // chromedriver is killed; its profile folder, unique to this browser, names it.
        let _ = Command::new("pkill")
            .arg("-KILL")
            .arg("-f")
            .arg(&self.profile)
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
        let _ = std::fs::remove_dir_all(&self.downloads);
    }
}
