//! One Django project: its database, its hashers, and the decisions about its users.

use std::sync::Arc;

use djauth_hashers::{Hashers, Outcome};
use djauth_store::{Store, StoreError, UserRow};

use crate::cache::{CacheConfig, SiteCache, stored_digest};
use crate::credentials::{decode_password, decode_username};
use crate::{Decision, Denial, Identity, KdfPool, PolicyError, RequirementSet};

/// A Django site djauth answers for.
#[derive(Debug, Clone)]
pub struct Site {
    name: String,
    store: Store,
    hashers: Arc<Hashers>,
    kdf: KdfPool,
    cache: Arc<SiteCache>,
}

/// What the user lookup found.
enum Lookup {
    Active(UserRow),
    Refused(Decision),
}

/// Why a shared verification did not produce a cache entry.
#[derive(Debug)]
enum NotVerified {
    Outcome(Outcome),
    Failed(PolicyError),
}

impl Site {
    /// A site named `name` reading `store`, verifying with `hashers` on
    /// `kdf`, with the default cache (see [`CacheConfig`]).
    pub fn new(name: impl Into<String>, store: Store, hashers: Arc<Hashers>, kdf: KdfPool) -> Site {
        Site {
            name: name.into(),
            store,
            hashers,
            kdf,
            cache: Arc::new(SiteCache::new(&CacheConfig::default())),
        }
    }

    /// The same site with other cache settings (and empty caches).
    pub fn with_cache(self, cache: CacheConfig) -> Site {
        Site {
            cache: Arc::new(SiteCache::new(&cache)),
            ..self
        }
    }

    /// The site's name in the configuration.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The site's database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The pool that runs this site's password hashes.
    pub fn kdf(&self) -> &KdfPool {
        &self.kdf
    }

    /// Checks a username and password, then the requirement.
    ///
    /// Unknown, inactive and ambiguous users cost one dummy hash at the
    /// preferred hasher's current parameters, like a real check. A password
    /// already verified against the user's current stored hash is not hashed
    /// again; wrong passwords always are.
    pub async fn authenticate(
        &self,
        username: &[u8],
        password: &[u8],
        requirement: &RequirementSet,
    ) -> Result<Decision, PolicyError> {
        let username = decode_username(username);
        let password = decode_password(password);
        let user = match self.lookup(&username).await? {
            Lookup::Active(user) => user,
            Lookup::Refused(decision) => {
                let hashers = self.hashers.clone();
                self.kdf.run(move || hashers.dummy()).await?;
                return Ok(decision);
            }
        };
        let key = self.cache.credential_key(&username, &password);
        let digest = stored_digest(user.password.as_deref());
        match self.cache.credentials.get(&key).await {
            Some(known) if known == digest => return self.decide(user, requirement).await,
            // Verified against a hash that has changed since: check again.
            Some(_) => self.cache.credentials.invalidate(&key).await,
            None => {}
        }
        let (hashers, kdf) = (self.hashers.clone(), self.kdf.clone());
        let encoded = user.password.clone();
        let verified = self
            .cache
            .credentials
            .try_get_with(key, async move {
                let outcome = kdf
                    .run(move || hashers.check(password.as_bytes(), encoded.as_deref()))
                    .await
                    .map_err(NotVerified::Failed)?;
                match outcome {
                    Outcome::Match(_) => Ok(digest),
                    other => Err(NotVerified::Outcome(other)),
                }
            })
            .await;
        match verified {
            Ok(_) => self.decide(user, requirement).await,
            Err(failure) => match &*failure {
                NotVerified::Failed(e) => Err(PolicyError::Kdf(e.to_string())),
                NotVerified::Outcome(outcome) => Ok(Decision::Denied(self.refusal(&user, outcome))),
            },
        }
    }

    /// Checks the requirement for a user the web server has already authenticated.
    pub async fn authorize(
        &self,
        username: Option<&[u8]>,
        requirement: &RequirementSet,
    ) -> Result<Decision, PolicyError> {
        let Some(username) = username.filter(|u| !u.is_empty()) else {
            return Ok(Decision::Denied(Denial::NoUser));
        };
        match self.lookup(&decode_username(username)).await? {
            Lookup::Active(user) => self.decide(user, requirement).await,
            Lookup::Refused(decision) => Ok(decision),
        }
    }

    /// Why a password check failed, logging data problems.
    fn refusal(&self, user: &UserRow, outcome: &Outcome) -> Denial {
        match outcome {
            Outcome::Malformed { algorithm, reason } => {
                tracing::warn!(
                    site = %self.name,
                    user = ?user.username,
                    user_id = user.id,
                    algorithm = algorithm.name(),
                    "stored password hash is malformed ({reason}); login refused"
                );
                Denial::MalformedHash
            }
            Outcome::Null => {
                tracing::warn!(
                    site = %self.name,
                    user = ?user.username,
                    user_id = user.id,
                    "stored password is NULL; login refused"
                );
                Denial::MalformedHash
            }
            Outcome::Unusable => Denial::UnusablePassword,
            Outcome::UnknownAlgorithm => Denial::UnknownAlgorithm,
            Outcome::Disabled(_) => Denial::HasherNotEnabled,
            Outcome::Match(_) | Outcome::Mismatch(_) => Denial::WrongPassword,
        }
    }

    /// Finds the user (fresh within the window); unknown, inactive and
    /// ambiguous users are refused.
    async fn lookup(&self, username: &str) -> Result<Lookup, PolicyError> {
        // No Django username holds a NUL, and PostgreSQL cannot even compare one.
        if username.contains('\0') {
            return Ok(Lookup::Refused(Decision::NotFound));
        }
        let found = match &self.cache.users {
            Some(users) => {
                users
                    .try_get_with(username.to_owned(), self.store.find_user(username))
                    .await
            }
            None => self.store.find_user(username).await.map_err(Arc::new),
        };
        match found {
            Ok(None) => Ok(Lookup::Refused(Decision::NotFound)),
            Ok(Some(user)) if !user.is_active => {
                Ok(Lookup::Refused(Decision::Denied(Denial::Inactive)))
            }
            Ok(Some(user)) => Ok(Lookup::Active(user)),
            Err(e) => match &*e {
                StoreError::DuplicateUser(name) => {
                    tracing::warn!(
                        site = %self.name,
                        user = ?name,
                        "several user rows match this username; refused"
                    );
                    Ok(Lookup::Refused(Decision::Denied(Denial::AmbiguousUser)))
                }
                StoreError::BadRow { .. } => {
                    tracing::warn!(site = %self.name, "{e}; refused");
                    Ok(Lookup::Refused(Decision::Denied(Denial::BadUserRow)))
                }
                _ => Err(PolicyError::Database(e)),
            },
        }
    }

    /// The user's groups, fresh within the window.
    async fn groups(&self, user_id: i64) -> Result<Arc<Vec<String>>, PolicyError> {
        let read = async { self.store.group_names(user_id).await.map(Arc::new) };
        match &self.cache.groups {
            Some(cache) => cache.try_get_with(user_id, read).await,
            None => read.await.map_err(Arc::new),
        }
        .map_err(PolicyError::Database)
    }

    /// The user's permissions, fresh within the window.
    async fn permissions(&self, user_id: i64) -> Result<Arc<Vec<String>>, PolicyError> {
        let read = async { self.store.permissions(user_id).await.map(Arc::new) };
        match &self.cache.permissions {
            Some(cache) => cache.try_get_with(user_id, read).await,
            None => read.await.map_err(Arc::new),
        }
        .map_err(PolicyError::Database)
    }

    /// Grants an active user who meets the requirement.
    async fn decide(
        &self,
        user: UserRow,
        requirement: &RequirementSet,
    ) -> Result<Decision, PolicyError> {
        let groups = self.groups(user.id).await?;
        let permissions = if requirement.needs_permissions() && !user.is_superuser {
            self.permissions(user.id).await?
        } else {
            Arc::default()
        };
        let identity = Identity {
            id: user.id,
            username: user.username,
            groups: groups.to_vec(),
            is_staff: user.is_staff,
            is_superuser: user.is_superuser,
        };
        if requirement.is_met_by(&identity, &permissions) {
            Ok(Decision::Granted(identity))
        } else {
            Ok(Decision::Denied(Denial::RequirementNotMet))
        }
    }
}
