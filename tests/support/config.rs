//! The portal configuration a test runs with, written as the TOML file an operator would.

use std::net::SocketAddr;

use super::{AppOptions, SignerChoice, stack};

/// The portal's configuration for `options`, on `database`, serving at `addr`.
pub fn config_toml(
    options: &AppOptions,
    database: &str,
    addr: SocketAddr,
    origin: &str,
    listeners: &Listeners,
) -> String {
    let stack = stack();
    let dir = &stack.directory;
    let server = options
        .database_server
        .as_ref()
        .unwrap_or(&stack.database_url);
    let (base, _) = server.rsplit_once('/').expect("database URL");
    let urls: Vec<String> = options
        .directory_urls
        .iter()
        .map(|u| format!("{u:?}"))
        .collect();
    format!(
        r#"
[server]
listen = "{addr}"
public_origin = "{origin}"
dev_insecure_http = {dev}

[database]
url = "{base}/{database}"
max_connections = {db_max}

[directory]
urls = [{urls}]
ca_file = {ca:?}
base_dn = "{base_dn}"
bind_dn = "{bind_dn}"
bind_password_file = {password:?}
netbios_domain = "{netbios}"
upn_suffixes = ["{upn}"]
connect_timeout_secs = {connect}
operation_timeout_secs = {operation}

[session]
idle_timeout_secs = {idle}
absolute_timeout_secs = {absolute}

[sign_in]
max_failures_per_user = {per_user}
max_failures_per_address = {per_addr}

{access}
[certificates]
signer = "{signer}"
max_ttl_secs = {max_ttl}
backdate_secs = {backdate}
max_per_minute = {per_minute}

[certificates.embedded]
ca_key_file = {embedded_key:?}

[ingest]
max_line_bytes = {max_line}
max_batch_bytes = {max_batch}
queue_lines = {queue_lines}
store_timeout_secs = {store_timeout}
{listeners}
{vault}
"#,
        max_line = options.max_line_bytes,
        max_batch = options.max_batch_bytes,
        queue_lines = options.queue_lines,
        store_timeout = options.store_timeout_secs,
        listeners = listeners.toml(options),
        signer = match options.signer {
            SignerChoice::Embedded => "embedded",
            SignerChoice::Vault(_) => "vault",
        },
        access = xtask::stack_info::ACCESS_TOML,
        max_ttl = options.max_ttl_secs,
        backdate = options.backdate_secs,
        db_max = options.db_max_connections,
        per_minute = options.max_certificates_per_minute,
        embedded_key = stack.embedded_ca.key_file.display().to_string(),
        vault = vault_toml(&options.signer),
        dev = options.dev_insecure_http,
        urls = urls.join(", "),
        ca = dir.ca_file.display().to_string(),
        base_dn = dir.base_dn,
        bind_dn = dir.bind_dn,
        password = options.bind_password_file.display().to_string(),
        netbios = dir.netbios_domain,
        upn = dir.upn_suffix,
        connect = options.connect_timeout_secs,
        operation = options.operation_timeout_secs,
        idle = options.idle_timeout_secs,
        absolute = options.absolute_timeout_secs,
        per_user = options.max_failures_per_user,
        per_addr = options.max_failures_per_address,
    )
}

fn vault_toml(signer: &SignerChoice) -> String {
    let SignerChoice::Vault(vault) = signer else {
        return String::new();
    };
    let info = &stack().vault;
    let login = match &vault.ldap_check_token_file {
        None => format!(
            "login = \"jwt\"\n\n[vault.jwt]\nmount = \"{}\"\nrole = \"{}\"\nkey_file = {:?}\n\
             issuer = \"{}\"\naudience = \"{}\"\n",
            info.jwt_mount,
            info.jwt_role,
            info.jwt_key_file.display().to_string(),
            info.jwt_issuer,
            info.jwt_audience
        ),
        Some(token_file) => format!(
            "login = \"ldap\"\ncheck_token_file = {:?}\n\n[vault.ldap]\nmount = \"ldap\"\n",
            token_file.display().to_string()
        ),
    };
    format!(
        "\n[vault]\naddr = \"{}\"\nca_file = {:?}\ntimeout_secs = {}\nssh_mount = \"{}\"\n\
         ssh_role = \"{}\"\n{login}",
        vault.addr,
        vault.ca_file.display().to_string(),
        vault.timeout_secs,
        info.ssh_mount,
        vault.role,
    )
}

/// Where a test portal receives syslog, for each transport it was asked to serve.
#[derive(Debug, Default, Clone, Copy)]
pub struct Listeners {
    pub tcp: Option<SocketAddr>,
    pub udp: Option<SocketAddr>,
    pub tls: Option<SocketAddr>,
}

impl Listeners {
    /// Free loopback ports for the transports `options` ask for.
    pub fn for_options(options: &AppOptions) -> Self {
        let tcp_port = || {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            probe.local_addr().expect("local addr")
        };
        Self {
            tcp: options.syslog_tcp.then(tcp_port),
            udp: options.syslog_udp.then(|| {
                let probe = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
                probe.local_addr().expect("local addr")
            }),
            tls: options.syslog_tls.as_ref().map(|_| tcp_port()),
        }
    }

    fn toml(&self, options: &AppOptions) -> String {
        let mut lines = Vec::new();
        if let Some(addr) = self.tcp {
            lines.push(format!("syslog_tcp_listen = \"{addr}\""));
        }
        if let Some(addr) = self.udp {
            lines.push(format!("syslog_udp_listen = \"{addr}\""));
        }
        if let (Some(addr), Some(files)) = (self.tls, &options.syslog_tls) {
            lines.push(format!("syslog_tls_listen = \"{addr}\""));
            lines.push(format!("tls_cert_file = {:?}", files.cert_file));
            lines.push(format!("tls_key_file = {:?}", files.key_file));
            if let Some(ca) = &files.client_ca_file {
                lines.push(format!("tls_client_ca_file = {ca:?}"));
            }
        }
        lines.join("\n")
    }
}
