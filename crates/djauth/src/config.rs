//! The configuration file (`djauth.toml`) and its validation.
//!
//! Every key is documented in `docs/configuration.md`. Unknown keys are an
//! error naming the key, so a typo never silently weakens a rule.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use djauth_hashers::{Algorithm, DjangoDefaults, HasherConfig};
use djauth_policy::RequirementSet;
use djauth_store::DatabaseUrl;
use serde::Deserialize;

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
    /// Largest PBKDF2 iteration count accepted from the database (default 100,000,000).
    pub pbkdf2_max_iterations: Option<u32>,
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
        if self.kdf_workers == Some(0) {
            return Err(ConfigError("kdf_workers must be at least 1".into()));
        }
        Ok(Settings {
            sites,
            fastcgi,
            kdf_workers: self.kdf_workers,
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
        if let Some(cap) = self.scrypt_max_memory {
            hashers.scrypt_max_memory = cap;
        }
        if let Some(cap) = self.argon2_max_memory_kib {
            hashers.argon2_max_memory_kib = cap;
        }
        if let Some(cap) = self.pbkdf2_max_iterations {
            hashers.pbkdf2_max_iterations = cap;
        }
        Ok(SiteSettings {
            name,
            database,
            hashers,
        })
    }
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
                "[sites.a]\ndatabase = \"sqlite:///x\"\n[[fastcgi]]\nlisten = \"127.0.0.1:1\"\nsite = \"b\"\n",
                "site \"b\" is not defined",
            ),
            (
                "[sites.a]\ndatabase = \"sqlite:///x\"\n[[fastcgi]]\nlisten = \"127.0.0.1:1\"\nrequire = \"group:\"\n",
                "invalid requirement",
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(needle), "{text:?} gave {err}");
        }
    }
}
