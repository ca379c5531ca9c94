//! The configuration file (`djauth.toml`) and its validation.
//!
//! Every key is documented in `docs/configuration.md`. Unknown keys are an
//! error naming the key, so a typo never silently weakens a rule.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use djauth_hashers::{Algorithm, DjangoDefaults, HasherConfig};
use djauth_policy::{CacheConfig, RequirementSet};
use djauth_store::{
    Choice, DatabaseUrl, M2mConfig, PoolConfig, SchemaConfig, StoreOptions, UsernameMatch,
};
use serde::Deserialize;

pub use crate::http_door::{HttpConfig, HttpSettings};

/// More concurrent hash computations than this only exhausts memory.
const MAX_KDF_WORKERS: usize = 256;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Django sites by name.
    #[serde(default)]
    pub sites: BTreeMap<String, SiteConfig>,
    /// FastCGI authorizer listeners for Apache's mod_authnz_fcgi.
    #[serde(default)]
    pub fastcgi: Vec<FastcgiConfig>,
    /// How many password hashes may be computed at once (default: one per core).
    pub kdf_workers: Option<usize>,
    /// The Unix socket for mod_djauth.
    pub unix: Option<UnixConfig>,
    /// HTTP forward-auth listeners for nginx, Traefik and Caddy.
    #[serde(default)]
    pub http: Vec<HttpConfig>,
}

/// The Unix socket mod_djauth talks to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnixConfig {
    /// Socket path, e.g. `/run/djauth/djauth.sock`.
    pub path: PathBuf,
    /// Octal permission bits as a string (default `"0660"`).
    pub mode: Option<String>,
    /// Group owning the socket (Apache's group, e.g. `www-data`).
    pub group: Option<String>,
    /// Seconds a connection may wait idle for its next request (default 30).
    pub idle_timeout: Option<f64>,
}

/// A validated Unix socket.
#[derive(Debug, Clone)]
pub struct UnixSettings {
    /// Socket path.
    pub path: PathBuf,
    /// Permission bits.
    pub mode: u32,
    /// Owning group, if not the daemon's.
    pub group: Option<String>,
    /// How long a connection may wait idle for its next request.
    pub idle_timeout: Duration,
}

/// Default permissions of the socket: owner and group may connect.
pub const DEFAULT_UNIX_MODE: u32 = 0o660;

/// Default idle time of a Unix-socket connection before djauth closes it.
pub const DEFAULT_UNIX_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

impl UnixConfig {
    /// Checks the path and the mode.
    pub fn validate(self) -> Result<UnixSettings, ConfigError> {
        if !self.path.is_absolute() {
            return Err(ConfigError(format!(
                "unix socket path {} is not absolute",
                self.path.display()
            )));
        }
        let mode = match &self.mode {
            None => DEFAULT_UNIX_MODE,
            Some(text) => u32::from_str_radix(text, 8)
                .ok()
                .filter(|m| *m <= 0o777)
                .ok_or_else(|| {
                    ConfigError(format!(
                        "unix socket mode {text:?} is not octal permission bits such as \"0660\""
                    ))
                })?,
        };
        if matches!(&self.group, Some(g) if g.is_empty()) {
            return Err(ConfigError("unix socket group is empty".into()));
        }
        let idle_timeout = match self.idle_timeout {
            None => DEFAULT_UNIX_IDLE_TIMEOUT,
            Some(seconds) => Duration::try_from_secs_f64(seconds)
                .ok()
                .filter(|d| *d >= Duration::from_millis(100) && d.as_secs() <= 3600)
                .ok_or_else(|| {
                    ConfigError(format!(
                        "unix idle_timeout {seconds} is not between 0.1 and 3600 seconds"
                    ))
                })?,
        };
        Ok(UnixSettings {
            path: self.path,
            mode,
            group: self.group,
            idle_timeout,
        })
    }
}

/// One Django site.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// Database URL, e.g. `sqlite:///srv/mysite/db.sqlite3`.
    pub database: String,
    /// The site's PASSWORD_HASHERS, as Django dotted class names or algorithm names.
    pub password_hashers: Option<Vec<String>>,
    /// The Django release whose default hasher parameters the site uses (default 5.2).
    pub django_version: Option<String>,
    /// Largest memory an scrypt hash may ask for, in bytes (default 32 MiB, as Django).
    pub scrypt_max_memory: Option<u64>,
    /// Largest memory an argon2 hash may ask for, in KiB (default 1 GiB).
    pub argon2_max_memory_kib: Option<u32>,
    /// Largest PBKDF2 iteration count accepted from the database (default 20,000,000).
    pub pbkdf2_max_iterations: Option<u32>,
    /// Largest argon2 time cost accepted from the database (default 32).
    pub argon2_max_time_cost: Option<u32>,
    /// Largest bcrypt cost accepted from the database (default 16).
    pub bcrypt_max_cost: Option<u32>,
    /// A file holding the database password (first line), instead of the URL.
    pub database_password_file: Option<std::path::PathBuf>,
    /// Most database connections at once (default 8).
    pub pool_max_connections: Option<u32>,
    /// Seconds a check waits for a free connection before failing (default 5).
    pub pool_timeout: Option<u64>,
    /// Seconds an unused database connection stays open (default 300).
    pub pool_idle_timeout: Option<u64>,
    /// Seconds one database read may take before the check fails (default 10).
    pub query_timeout: Option<u64>,
    /// Seconds user rows, groups and permissions are reused (default 5; 0: read every request).
    pub cache_freshness: Option<f64>,
    /// Most verified credentials remembered (default 100,000).
    pub cache_max_credentials: Option<u64>,
    /// `AUTH_USER_MODEL` (default `auth.User`).
    pub user_model: Option<String>,
    /// The user table, if `Meta.db_table` changed it.
    pub user_table: Option<String>,
    /// Primary-key column (default `id`).
    pub id_field: Option<String>,
    /// USERNAME_FIELD column (default `username`).
    pub username_field: Option<String>,
    /// `exact` (default) or `iexact`.
    pub username_match: Option<String>,
    /// `is_active` column, or `"none"`; detected by default.
    pub is_active_field: Option<String>,
    /// `is_staff` column, or `"none"`; detected by default.
    pub is_staff_field: Option<String>,
    /// `is_superuser` column, or `"none"`; detected by default.
    pub is_superuser_field: Option<String>,
    /// User-to-group table, or `"none"`; detected by default.
    pub groups_table: Option<String>,
    /// Its column pointing at the user (default `<modelname>_id`).
    pub groups_user_column: Option<String>,
    /// Its column pointing at the group (default `group_id`).
    pub groups_group_column: Option<String>,
    /// User-to-permission table, or `"none"`; detected by default.
    pub user_permissions_table: Option<String>,
    /// Its column pointing at the user (default `<modelname>_id`).
    pub user_permissions_user_column: Option<String>,
    /// Its column pointing at the permission (default `permission_id`).
    pub user_permissions_permission_column: Option<String>,
}

/// One FastCGI listening port.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FastcgiConfig {
    /// `host:port` to listen on (TCP; mod_authnz_fcgi cannot use Unix sockets).
    pub listen: SocketAddr,
    /// Fixes the site for this port; otherwise the `DJANGO_SITE` variable, or the only site.
    pub site: Option<String>,
    /// Fixes the requirement for this port; otherwise `DJANGO_REQUIRE`, or `valid-user`.
    pub require: Option<String>,
}

/// A validated site.
#[derive(Debug, Clone)]
pub struct SiteSettings {
    /// The site's name.
    pub name: String,
    /// Where its users are.
    pub database: DatabaseUrl,
    /// How its passwords are verified.
    pub hashers: HasherConfig,
    /// How its database is read.
    pub store: StoreOptions,
    /// How its answers are cached.
    pub cache: CacheConfig,
}

/// A validated FastCGI listener.
#[derive(Debug, Clone)]
pub struct FastcgiSettings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Fixed site, if any.
    pub site: Option<String>,
    /// Fixed requirement, if any.
    pub require: Option<RequirementSet>,
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The sites, by name.
    pub sites: Vec<SiteSettings>,
    /// The FastCGI listeners.
    pub fastcgi: Vec<FastcgiSettings>,
    /// KDF concurrency.
    pub kdf_workers: Option<usize>,
    /// The Unix socket for mod_djauth, if any.
    pub unix: Option<UnixSettings>,
    /// The HTTP forward-auth listeners.
    pub http: Vec<HttpSettings>,
}

/// A configuration problem, phrased for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl ConfigFile {
    /// Reads and parses a TOML file.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))
    }

    /// Checks every value and resolves names.
    pub fn validate(self) -> Result<Settings, ConfigError> {
        if self.sites.is_empty() {
            return Err(ConfigError(
                "no site configured: add a [sites.NAME] table with a database".into(),
            ));
        }
        let sites = self
            .sites
            .into_iter()
            .map(|(name, site)| site.validate(name))
            .collect::<Result<Vec<_>, _>>()?;
        let mut fastcgi = Vec::new();
        for listener in self.fastcgi {
            if let Some(site) = &listener.site
                && !sites.iter().any(|s| &s.name == site)
            {
                return Err(ConfigError(format!(
                    "fastcgi listener {}: site {site:?} is not defined in [sites]",
                    listener.listen
                )));
            }
            let require = listener
                .require
                .as_deref()
                .map(str::parse::<RequirementSet>)
                .transpose()
                .map_err(|e| ConfigError(format!("fastcgi listener {}: {e}", listener.listen)))?;
            fastcgi.push(FastcgiSettings {
                listen: listener.listen,
                site: listener.site,
                require,
            });
        }
        if let Some(workers) = self.kdf_workers
            && !(1..=MAX_KDF_WORKERS).contains(&workers)
        {
            return Err(ConfigError(format!(
                "kdf_workers must be between 1 and {MAX_KDF_WORKERS}"
            )));
        }
        let unix = self.unix.map(UnixConfig::validate).transpose()?;
        let http = self
            .http
            .into_iter()
            .map(HttpConfig::validate)
            .collect::<Result<_, _>>()?;
        Ok(Settings {
            sites,
            fastcgi,
            kdf_workers: self.kdf_workers,
            unix,
            http,
        })
    }
}

impl SiteConfig {
    fn validate(self, name: String) -> Result<SiteSettings, ConfigError> {
        let context = |e: String| ConfigError(format!("site {name:?}: {e}"));
        let database = DatabaseUrl::parse(&self.database).map_err(|e| context(e.to_string()))?;
        let mut hashers = HasherConfig::default();
        if let Some(list) = &self.password_hashers {
            hashers.enabled = parse_hasher_list(list).map_err(context)?;
        }
        if let Some(version) = &self.django_version {
            hashers.defaults = DjangoDefaults::for_version(version).ok_or_else(|| {
                context(format!(
                    "django_version {version:?} is not known; use a release such as \"4.2\" or \"5.2\""
                ))
            })?;
        }
        if let Some(list) = &self.password_hashers {
            let version = self
                .django_version
                .as_deref()
                .unwrap_or(DEFAULT_DJANGO_VERSION);
            removed_classes(list, version).map_err(context)?;
        }
        if let Some(cap) = self.scrypt_max_memory {
            hashers.scrypt_max_memory = cap;
        }
        if let Some(cap) = self.argon2_max_memory_kib {
            hashers.argon2_max_memory_kib = cap;
        }
        if let Some(cap) = self.pbkdf2_max_iterations {
            hashers.pbkdf2_max_iterations = cap;
        }
        if let Some(cap) = self.argon2_max_time_cost {
            hashers.argon2_max_time_cost = cap;
        }
        if let Some(cap) = self.bcrypt_max_cost {
            hashers.bcrypt_max_cost = cap;
        }
        djauth_hashers::Hashers::new(hashers.clone()).map_err(|e| context(e.to_string()))?;
        let store = self.store_options().map_err(context)?;
        let cache = self.cache_config().map_err(context)?;
        Ok(SiteSettings {
            name,
            database,
            hashers,
            store,
            cache,
        })
    }

    /// The freshness window and the credential cache's size.
    fn cache_config(&self) -> Result<CacheConfig, String> {
        let mut cache = CacheConfig::default();
        if let Some(seconds) = self.cache_freshness {
            cache.freshness = std::time::Duration::try_from_secs_f64(seconds)
                .ok()
                .filter(|d| d.as_secs() <= 3600)
                .ok_or_else(|| {
                    format!("cache_freshness {seconds} is not between 0 and 3600 seconds")
                })?;
        }
        if let Some(max) = self.cache_max_credentials {
            cache.max_credentials = max;
        }
        Ok(cache)
    }

    /// The user-model mapping and pool settings.
    fn store_options(&self) -> Result<StoreOptions, String> {
        let defaults = SchemaConfig::default();
        let choice = |value: &Option<String>| {
            value
                .as_deref()
                .map_or(Choice::Detect, Choice::from_setting)
        };
        let username_match = match self.username_match.as_deref() {
            None | Some("exact") => UsernameMatch::Exact,
            Some("iexact") => UsernameMatch::Iexact,
            Some(other) => {
                return Err(format!(
                    "username_match {other:?} is not \"exact\" or \"iexact\""
                ));
            }
        };
        let schema = SchemaConfig {
            user_model: self.user_model.clone().unwrap_or(defaults.user_model),
            user_table: self.user_table.clone(),
            id_column: self.id_field.clone().unwrap_or(defaults.id_column),
            username_column: self
                .username_field
                .clone()
                .unwrap_or(defaults.username_column),
            is_active: choice(&self.is_active_field),
            is_staff: choice(&self.is_staff_field),
            is_superuser: choice(&self.is_superuser_field),
            groups: M2mConfig {
                table: choice(&self.groups_table),
                user_column: self.groups_user_column.clone(),
                other_column: self.groups_group_column.clone(),
            },
            user_permissions: M2mConfig {
                table: choice(&self.user_permissions_table),
                user_column: self.user_permissions_user_column.clone(),
                other_column: self.user_permissions_permission_column.clone(),
            },
            username_match,
        };
        if schema.model_parts().is_none() {
            return Err(format!(
                "user_model {:?} is not of the form app_label.ModelName",
                schema.user_model
            ));
        }
        let mut pool = PoolConfig::default();
        if let Some(max) = self.pool_max_connections {
            if max == 0 {
                return Err("pool_max_connections must be at least 1".into());
            }
            pool.max_connections = max;
        }
        if let Some(seconds) = self.pool_timeout {
            pool.acquire_timeout = std::time::Duration::from_secs(seconds.max(1));
        }
        if let Some(seconds) = self.pool_idle_timeout {
            pool.idle_timeout = std::time::Duration::from_secs(seconds.max(1));
        }
        if let Some(seconds) = self.query_timeout {
            pool.query_timeout = std::time::Duration::from_secs(seconds.max(1));
        }
        Ok(StoreOptions {
            schema,
            pool,
            password_file: self.database_password_file.clone(),
        })
    }
}

/// The Django release whose defaults apply when `django_version` is not set.
const DEFAULT_DJANGO_VERSION: &str = "5.2";

/// Django's own dotted class names of hashers the site's Django no longer
/// ships would make every login raise ImportError there; a project that
/// keeps its own copy of the class lists it by algorithm name instead.
fn removed_classes(names: &[String], version: &str) -> Result<(), String> {
    for name in names {
        let name = name.trim();
        if let Some(algorithm) = Algorithm::ALL.into_iter().find(|a| a.class_path() == name)
            && algorithm.shipped_in(version) == Some(false)
        {
            return Err(format!(
                "password_hashers: Django {version} no longer ships {name}; if the project keeps its own copy of that hasher, list it by its algorithm name {:?}",
                algorithm.name()
            ));
        }
    }
    Ok(())
}

/// Parses a PASSWORD_HASHERS list: dotted class names or algorithm names.
pub fn parse_hasher_list<S: AsRef<str>>(names: &[S]) -> Result<Vec<Algorithm>, String> {
    if names.is_empty() {
        return Err("password_hashers is empty; Django needs at least one".into());
    }
    names
        .iter()
        .map(|name| {
            let name = name.as_ref().trim();
            Algorithm::parse(name).ok_or_else(|| {
                format!(
                    "password_hashers: unknown hasher {name:?}; djauth knows {}",
                    Algorithm::ALL
                        .iter()
                        .map(|a| a.class_path())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, String> {
        toml::from_str::<ConfigFile>(text)
            .map_err(|e| e.to_string())?
            .validate()
            .map_err(|e| e.to_string())
    }

    #[test]
    fn full_form() {
        let settings = parse(
            r#"
            kdf_workers = 2
            [sites.main]
            database = "sqlite:///srv/main/db.sqlite3"
            password_hashers = ["django.contrib.auth.hashers.ScryptPasswordHasher", "md5"]
            django_version = "4.2"
            [unix]
            path = "/run/djauth/djauth.sock"
            group = "www-data"
            [[fastcgi]]
            listen = "127.0.0.1:9501"
            [[fastcgi]]
            listen = "127.0.0.1:9502"
            site = "main"
            require = 'group:"secret agents" user:alice'
            "#,
        )
        .unwrap();
        assert_eq!(settings.sites[0].name, "main");
        assert_eq!(
            settings.sites[0].hashers.enabled,
            [Algorithm::Scrypt, Algorithm::Md5]
        );
        assert_eq!(
            settings.sites[0].hashers.defaults.pbkdf2_iterations,
            600_000
        );
        assert_eq!(settings.fastcgi.len(), 2);
        assert_eq!(
            settings.fastcgi[1].require.as_ref().unwrap().to_string(),
            "group:\"secret agents\" user:alice"
        );
        assert_eq!(settings.kdf_workers, Some(2));
        let unix = settings.unix.unwrap();
        assert_eq!(unix.path, Path::new("/run/djauth/djauth.sock"));
        assert_eq!(unix.mode, 0o660);
        assert_eq!(unix.group.as_deref(), Some("www-data"));
    }

    #[test]
    fn custom_user_model_keys() {
        let settings = parse(
            r#"
            [sites.shop]
            database = "postgres://djauth@127.0.0.1/shop"
            database_password_file = "/etc/djauth/shop.pw"
            pool_max_connections = 3
            pool_timeout = 2
            pool_idle_timeout = 60
            user_model = "accounts.EmailUser"
            username_field = "email"
            username_match = "iexact"
            is_active_field = "none"
            groups_table = "members_groups"
            groups_user_column = "member_id"
            "#,
        )
        .unwrap();
        let store = &settings.sites[0].store;
        assert_eq!(store.schema.user_model, "accounts.EmailUser");
        assert_eq!(store.schema.username_column, "email");
        assert_eq!(store.schema.username_match, UsernameMatch::Iexact);
        assert_eq!(store.schema.is_active, Choice::Absent);
        assert_eq!(store.schema.is_staff, Choice::Detect);
        assert_eq!(
            store.schema.groups.table,
            Choice::Named("members_groups".into())
        );
        assert_eq!(
            store.schema.groups.user_column.as_deref(),
            Some("member_id")
        );
        assert_eq!(store.pool.max_connections, 3);
        assert_eq!(store.pool.acquire_timeout.as_secs(), 2);
        assert_eq!(store.pool.idle_timeout.as_secs(), 60);
        assert!(store.password_file.is_some());
        assert_eq!(settings.sites[0].cache, CacheConfig::default());
    }

    #[test]
    fn removed_hasher_classes_depend_on_the_django_release() {
        let site = |version: &str, hasher: &str| {
            parse(&format!(
                "[sites.a]\ndatabase = \"sqlite:///x\"\ndjango_version = \"{version}\"\npassword_hashers = [\"{hasher}\"]\n"
            ))
        };
        assert!(site("4.2", "django.contrib.auth.hashers.SHA1PasswordHasher").is_ok());
        assert!(site("5.0", "django.contrib.auth.hashers.SHA1PasswordHasher").is_ok());
        assert!(site("5.1", "django.contrib.auth.hashers.SHA1PasswordHasher").is_err());
        assert!(site("5.0", "django.contrib.auth.hashers.CryptPasswordHasher").is_err());
        assert!(site("4.2", "django.contrib.auth.hashers.CryptPasswordHasher").is_ok());
        // A project's own copy, listed by algorithm name, is fine everywhere.
        assert!(site("6.1", "sha1").is_ok());
        assert!(site("6.1", "unsalted_md5").is_ok());
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = parse("[sites.main]\ndatabase = \"sqlite:///x\"\npassword_hasher = [\"md5\"]\n")
            .unwrap_err();
        assert!(err.contains("password_hasher"), "{err}");
        let err = parse("listen = 1\n[sites.main]\ndatabase = \"sqlite:///x\"\n").unwrap_err();
        assert!(err.contains("listen"), "{err}");
    }

    #[test]
    fn bad_values_are_explained() {
        for (text, needle) in [
            ("", "no site"),
            (
                "[sites.a]\ndatabase = \"ftp://x\"\n",
                "unsupported database scheme",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\npassword_hashers = [\"myapp.Hasher\"]\n",
                "myapp.Hasher",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\ndjango_version = \"9.9\"\n",
                "django_version",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\nuser_model = \"EmailUser\"\n",
                "app_label.ModelName",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\nusername_match = \"ci\"\n",
                "username_match",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\ncache_freshness = -1.0\n",
                "cache_freshness",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\npassword_hashers = [\"django.contrib.auth.hashers.SHA1PasswordHasher\"]\n",
                "no longer ships",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\npool_max_connections = 0\n",
                "pool_max_connections",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\npbkdf2_max_iterations = 0\n",
                "pbkdf2_max_iterations is below",
            ),
            (
                "kdf_workers = 100000\n[sites.a]\ndatabase = \"sqlite:///x\"\n",
                "kdf_workers",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\n[[fastcgi]]\nlisten = \"127.0.0.1:1\"\nsite = \"b\"\n",
                "site \"b\" is not defined",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\n[[fastcgi]]\nlisten = \"127.0.0.1:1\"\nrequire = \"group:\"\n",
                "invalid requirement",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\n[unix]\npath = \"run/djauth.sock\"\n",
                "not absolute",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\n[unix]\npath = \"/run/d.sock\"\nmode = \"660a\"\n",
                "octal",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\n[unix]\npath = \"/run/d.sock\"\nmode = \"1777\"\n",
                "octal",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\n[unix]\npath = \"/run/d.sock\"\nowner = \"x\"\n",
                "owner",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\n[[http]]\nlisten = \"localhost\"\n",
                "neither host:port",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\n[[http]]\nlisten = \"127.0.0.1:1\"\nrequire = \"staff\"\n",
                "require",
            ),
            // Case C22: a permission without its app label is a start-up error.
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\n[[fastcgi]]\nlisten = \"127.0.0.1:1\"\nrequire = \"perm:commit_repo\"\n",
                "app_label.codename",
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(needle), "{text:?} gave {err}");
        }
    }
}
