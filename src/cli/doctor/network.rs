//! The checks that go over the network: `listener` (`[server] listen`), `graph` (the Graph API
//! answers) and `token` (the Graph API accepts each connected number's token).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::clock::{Sample, midpoint};
use super::secrets::mask_url;
use super::{Check, PROBE_TIMEOUT, Report, Status, plural};
use crate::app::ingest::error_chain;
use crate::cloud_api::graph::{ErrorClass, GraphClient, GraphError};
use crate::config::Config;
use crate::store::phones;
use crate::store::probe::{Probe, ProbeError};

/// How long the program holding the listen address may take to answer `GET /healthz`.
const HEALTHZ_TIMEOUT: Duration = Duration::from_secs(2);

/// `[server] listen`: free, or held by a running treeex (fine: TUIs work beside one `serve`).
pub(super) async fn listener(addr: SocketAddr) -> Check {
    if addr.port() == 0 {
        return Check::new(
            "listener",
            Status::Warn,
            format!(
                "{addr}: port 0 is a new port at every start, and Meta's callback URL needs a fixed one; set [server] listen"
            ),
        );
    }
    match tokio::net::TcpListener::bind(addr).await {
        Ok(bound) => {
            drop(bound);
            Check::new("listener", Status::Ok, format!("{addr} is free"))
        }
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            if answers_like_treeex(addr).await {
                Check::new(
                    "listener",
                    Status::Ok,
                    format!("{addr} is in use by a running treeex (its /healthz answers)"),
                )
            } else {
                Check::new(
                    "listener",
                    Status::Fail,
                    format!(
                        "{addr} is taken by another program; stop it, or set [server] listen to a free address"
                    ),
                )
            }
        }
        Err(error) => Check::new(
            "listener",
            Status::Fail,
            format!("cannot listen on {addr}: {error}; set [server] listen"),
        ),
    }
}

/// True when `GET http://ADDR/healthz` answers 200 `ok`, as treeex's listener does.
async fn answers_like_treeex(addr: SocketAddr) -> bool {
    let mut target = addr;
    // A listener on every address is reached on the loopback one.
    if target.ip().is_unspecified() {
        target.set_ip(match target {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    crate::install_tls_provider();
    let Ok(client) = reqwest::Client::builder()
        .timeout(HEALTHZ_TIMEOUT)
        .no_proxy()
        .build()
    else {
        return false;
    };
    match client.get(format!("http://{target}/healthz")).send().await {
        Ok(response) if response.status() == reqwest::StatusCode::OK => {
            response.text().await.is_ok_and(|body| body == "ok\n")
        }
        _ => false,
    }
}

/// Whether the Graph API answers, and its clock.
pub(super) struct GraphProbe {
    pub(super) check: Check,
    pub(super) reachable: bool,
    pub(super) clock: Option<Sample>,
}

/// Any HTTP answer from `[whatsapp] graph_base_url` counts: the base alone is no API call.
pub(super) async fn graph(config: &Config) -> GraphProbe {
    let base = config.whatsapp.graph_base_url.trim();
    let shown = mask_url(base);
    let unreachable = |detail: String| GraphProbe {
        check: Check::new("graph", Status::Fail, detail),
        reachable: false,
        clock: None,
    };
    crate::install_tls_provider();
    let client = match reqwest::Client::builder()
        .timeout(PROBE_TIMEOUT)
        .user_agent(concat!("treeex/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(error) => return unreachable(format!("cannot make an HTTP client: {error}")),
    };
    let started = Instant::now();
    let before = Utc::now();
    match client.get(base).send().await {
        Ok(response) => {
            let elapsed = started.elapsed();
            let local = midpoint(before, Utc::now());
            let clock = response
                .headers()
                .get(reqwest::header::DATE)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| DateTime::parse_from_rfc2822(value).ok())
                .map(|remote| Sample {
                    local,
                    remote: remote.with_timezone(&Utc),
                });
            GraphProbe {
                check: Check::new(
                    "graph",
                    Status::Ok,
                    format!(
                        "{shown} answers (HTTP {} in {} ms)",
                        response.status().as_u16(),
                        elapsed.as_millis()
                    ),
                ),
                reachable: true,
                clock,
            }
        }
        Err(error) if error.is_timeout() => unreachable(format!(
            "{shown}: no answer within {} s; check the network, a proxy (HTTPS_PROXY), or [whatsapp] graph_base_url",
            PROBE_TIMEOUT.as_secs()
        )),
        // Without the URL: it is shown masked already.
        Err(error) => unreachable(format!(
            "{shown} does not answer: {}; check the network, a proxy (HTTPS_PROXY), or [whatsapp] graph_base_url",
            error_chain(&error.without_url())
        )),
    }
}

/// One line per connected number: the Graph API looks the number up with its token. Returns
/// how many numbers there are, when the database said.
pub(super) async fn tokens(
    config: &Config,
    conn: Option<&mut Probe>,
    graph_reachable: bool,
    report: &mut Report,
) -> Option<usize> {
    let Some(conn) = conn else {
        report.add("token", Status::Skip, "needs the database (see above)");
        return None;
    };
    let credentials = match conn.credentials().await {
        Ok(credentials) => credentials,
        Err(ProbeError::NoTables) => {
            report.add(
                "token",
                Status::Skip,
                "the database has no tables yet (the next treeex command applies the migrations)",
            );
            return None;
        }
        Err(error) => {
            report.add(
                "token",
                Status::Fail,
                format!("cannot read the phone numbers: {}", error_chain(&error)),
            );
            return None;
        }
    };
    let count = credentials.len();
    if credentials.is_empty() {
        report.add(
            "token",
            Status::Skip,
            "no phone numbers connected yet (`treeex phone add`)",
        );
        return Some(0);
    }
    if !graph_reachable {
        report.add(
            "token",
            Status::Skip,
            format!(
                "{count} access token{} not checked: the Graph API does not answer (see above)",
                plural(count)
            ),
        );
        return Some(count);
    }
    let client = match GraphClient::new(
        &config.whatsapp.graph_base_url,
        &config.whatsapp.api_version,
        PROBE_TIMEOUT,
    ) {
        Ok(client) => client,
        Err(error) => {
            report.add("token", Status::Fail, error_chain(&error));
            return Some(count);
        }
    };
    for credential in &credentials {
        report.push(token_check(&client, credential).await);
    }
    Some(count)
}

async fn token_check(client: &GraphClient, credential: &phones::Credential) -> Check {
    let who = format!(
        "{} {}",
        credential.workspace_slug, credential.phone_number_id
    );
    match client
        .phone_number(&credential.access_token, &credential.phone_number_id)
        .await
    {
        Ok(info) => {
            let display = info
                .display_phone_number
                .unwrap_or_else(|| credential.display_phone_number.clone());
            let name = info
                .verified_name
                .map(|name| format!(" ({name})"))
                .unwrap_or_default();
            Check::new(
                "token",
                Status::Ok,
                format!("{who}: accepted; Meta knows it as {display}{name}"),
            )
        }
        Err(GraphError::Api(api)) if api.code == 190 || api.class() == ErrorClass::TokenExpired => {
            Check::new(
                "token",
                Status::Fail,
                format!(
                    "{who}: the Graph API refused the access token ({}: {}); the number sends nothing until it has a valid one",
                    api.code, api.title
                ),
            )
        }
        Err(error) => Check::new(
            "token",
            Status::Fail,
            format!("{who}: {}", error_chain(&error)),
        ),
    }
}
