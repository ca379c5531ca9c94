//! `djauth serve`: open every site, listen on every front door, run until stopped.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use djauth_hashers::Hashers;
use djauth_policy::{KdfPool, Site};
use djauth_store::Store;
use tokio::net::TcpListener;

use crate::cli::{ServeArgs, SiteSource};
use crate::config::{
    ConfigError, ConfigFile, FastcgiSettings, Settings, SiteConfig, SiteSettings, UnixConfig,
    UnixSettings,
};
use crate::fastcgi_door::FastcgiDoor;
use crate::http_door::{HttpConfig, HttpDoor, HttpListen, HttpSettings};
use crate::unix_door::UnixDoor;

/// How long in-flight work may finish after SIGTERM before the process exits.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Name of the single site given with `--database`.
pub const DEFAULT_SITE: &str = "default";

/// Runs the daemon; returns when SIGINT or SIGTERM arrives.
pub fn run(args: ServeArgs) -> ExitCode {
    let settings = match settings_for(
        &args.source,
        &args.fastcgi,
        args.unix.as_deref(),
        &args.http,
    ) {
        Ok(settings) => settings,
        Err(e) => return fail(e),
    };
    if settings.fastcgi.is_empty() && settings.unix.is_none() && settings.http.is_empty() {
        return fail(ConfigError(
            "nothing to serve: give --fastcgi HOST:PORT, --unix PATH or --http HOST:PORT, or a [[fastcgi]] listener, [unix] socket or [[http]] listener in the config file".into(),
        ));
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(ConfigError(format!("cannot start the runtime: {e}"))),
    };
    let result = runtime.block_on(serve(settings));
    // A hash still being computed must not keep the process alive after SIGTERM.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// Reads the configuration from a file, or builds it from `--database`,
/// `--fastcgi`, `--unix` and `--http`.
pub fn settings_for(
    source: &SiteSource,
    fastcgi: &[SocketAddr],
    unix: Option<&Path>,
    http: &[String],
) -> Result<Settings, ConfigError> {
    match (&source.config, &source.database) {
        (Some(path), _) => ConfigFile::load(path)?.validate(),
        (None, Some(database)) => ConfigFile {
            sites: [(
                DEFAULT_SITE.to_owned(),
                SiteConfig {
                    database: database.clone(),
                    ..SiteConfig::default()
                },
            )]
            .into(),
            fastcgi: fastcgi
                .iter()
                .map(|&listen| crate::config::FastcgiConfig {
                    listen,
                    site: None,
                    require: None,
                })
                .collect(),
            kdf_workers: None,
            unix: unix.map(|path| UnixConfig {
                path: path.to_path_buf(),
                mode: None,
                group: None,
                idle_timeout: None,
            }),
            http: http.iter().cloned().map(HttpConfig::at).collect(),
        }
        .validate(),
        (None, None) => Err(ConfigError(
            "no site: give --config FILE or --database URL (or set DATABASE_URL)".into(),
        )),
    }
}

/// Opens a site's database and prepares its hashers.
pub async fn open_site(settings: &SiteSettings, kdf: KdfPool) -> Result<Site, ConfigError> {
    let store = Store::open(&settings.database, &settings.store)
        .await
        .map_err(|e| ConfigError(format!("site {:?}: {e}", settings.name)))?;
    let hashers = Hashers::new(settings.hashers.clone())
        .map_err(|e| ConfigError(format!("site {:?}: {e}", settings.name)))?;
    Ok(Site::new(settings.name.clone(), store, Arc::new(hashers), kdf).with_cache(settings.cache))
}

async fn serve(settings: Settings) -> Result<(), ConfigError> {
    let kdf = settings
        .kdf_workers
        .map_or_else(KdfPool::per_core, KdfPool::new);
    let mut sites = Vec::new();
    for site in &settings.sites {
        let opened = open_site(site, kdf.clone()).await?;
        tracing::info!(
            site = %site.name,
            database = %site.database,
            user_model = %opened.store().schema().describe(),
            preferred_hasher = site.hashers.enabled.first().map_or("", |a| a.name()),
            "serving site"
        );
        sites.push(opened);
    }
    let sites = Arc::new(sites);
    let mut tasks = Vec::new();
    for listener in &settings.fastcgi {
        tasks.push(start_fastcgi(listener, sites.clone()).await?);
    }
    if let Some(unix) = &settings.unix {
        tasks.push(start_unix(unix, sites.clone())?);
    }
    for listener in &settings.http {
        tasks.push(start_http(listener, sites.clone()).await?);
    }
    tracing::info!(kdf_workers = kdf.size(), "djauth is ready");
    shutdown_signal().await;
    tracing::info!("stopping");
    for task in tasks {
        task.abort();
    }
    if let Some(unix) = &settings.unix {
        crate::unix_door::unlink(&unix.path);
    }
    for listener in &settings.http {
        if let HttpListen::Unix(unix) = &listener.listen {
            crate::unix_door::unlink(&unix.path);
        }
    }
    Ok(())
}

async fn start_http(
    settings: &HttpSettings,
    sites: Arc<Vec<Site>>,
) -> Result<tokio::task::JoinHandle<()>, ConfigError> {
    let listener = crate::http_door::bind(settings).await?;
    let shown = match &listener {
        crate::http_door::Listener::Tcp(tcp) => {
            let bound = tcp.local_addr().map_err(|e| ConfigError(e.to_string()))?;
            if !bound.ip().is_loopback() {
                tracing::warn!(
                    listen = %bound,
                    "HTTP listener is not on loopback: anyone who can reach it can test passwords and look up users; keep it on 127.0.0.1 or behind a firewall"
                );
            }
            bound.to_string()
        }
        crate::http_door::Listener::Unix(_) => settings.listen.to_string(),
    };
    tracing::info!(listen = %shown, realm = %settings.realm, "HTTP forward-auth listening");
    let door = Arc::new(HttpDoor::new(settings.clone(), sites)?);
    Ok(tokio::spawn(door.run(listener)))
}

fn start_unix(
    settings: &UnixSettings,
    sites: Arc<Vec<Site>>,
) -> Result<tokio::task::JoinHandle<()>, ConfigError> {
    let listener = crate::unix_door::bind(settings)?;
    tracing::info!(
        path = %settings.path.display(),
        mode = %format!("{:04o}", settings.mode),
        group = settings.group.as_deref().unwrap_or("(the daemon's)"),
        "mod_djauth socket listening"
    );
    let door = Arc::new(UnixDoor::new(sites, settings.idle_timeout));
    Ok(tokio::spawn(door.run(listener)))
}

async fn start_fastcgi(
    settings: &FastcgiSettings,
    sites: Arc<Vec<Site>>,
) -> Result<tokio::task::JoinHandle<()>, ConfigError> {
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|e| ConfigError(format!("cannot listen on {}: {e}", settings.listen)))?;
    let bound = listener.local_addr().unwrap_or(settings.listen);
    if !bound.ip().is_loopback() {
        tracing::warn!(
            listen = %bound,
            "FastCGI listener is not on loopback: anyone who can reach it can test passwords and look up users; keep it on 127.0.0.1 or behind a firewall"
        );
    }
    tracing::info!(
        listen = %bound,
        site = settings.site.as_deref().unwrap_or("from DJANGO_SITE"),
        require = %settings.require.as_ref().map_or("from DJANGO_REQUIRE, else valid-user".to_string(), ToString::to_string),
        "FastCGI authorizer listening"
    );
    let door = Arc::new(FastcgiDoor::new(settings.clone(), sites));
    Ok(tokio::spawn(door.run(listener)))
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// Prints a start-up error and gives the exit code for it.
pub fn fail(error: ConfigError) -> ExitCode {
    eprintln!("djauth: {error}");
    ExitCode::from(2)
}
