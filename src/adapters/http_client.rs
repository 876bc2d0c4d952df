//! The one outbound HTTP client setup (webhooks, OpenID Connect, cluster peers, the CLI): reqwest
//! over rustls with the ring provider (aws-lc-rs, reqwest's default, needs cmake and a long C build).
//! Server certificates are checked against the system's roots - or the PEM file in `SSL_CERT_FILE`
//! / the directories in `SSL_CERT_DIR` instead, so an operator's private CA works - and against
//! Mozilla's roots when the system has none (a bare container image).

use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;

/// A reqwest builder with this server's TLS setup; callers add their timeouts and policies.
pub fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().tls_backend_preconfigured(tls_config().as_ref().clone())
}

/// A client with only the shared TLS setup (the CLI's one-shot calls).
pub fn client() -> reqwest::Client {
    builder().build().expect("a client over a prebuilt TLS config always builds")
}

/// The TLS client configuration, built once: loading the system store reads a few hundred files.
fn tls_config() -> &'static Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // Anything else in the process that asks rustls for its default gets ring too.
        let _ = CryptoProvider::install_default(provider.as_ref().clone());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports TLS 1.2 and 1.3")
            .with_root_certificates(roots())
            .with_no_client_auth();
        // reqwest is built without HTTP/2.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    })
}

/// The system's roots (or `SSL_CERT_FILE`'s), else the bundled Mozilla roots.
fn roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::warn!(%error, "cannot load a CA certificate");
    }
    let (added, ignored) = roots.add_parsable_certificates(native.certs);
    if ignored > 0 {
        tracing::warn!(ignored, "CA certificates ignored: not parsable");
    }
    if added == 0 {
        tracing::warn!("no CA certificates in the system store; using the bundled Mozilla roots");
        roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    } else {
        tracing::debug!(added, "CA certificates loaded");
    }
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_trusts_some_roots_and_speaks_http1() {
        let config = tls_config();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert!(CryptoProvider::get_default().is_some(), "ring is installed as the process default");
        builder().build().expect("client builds");
    }
}
