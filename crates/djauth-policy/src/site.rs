//! One Django project: its database, its hashers, and the decisions about its users.

use std::sync::Arc;
use std::time::{Duration, Instant};

use djauth_hashers::{Hashers, Outcome};
use djauth_store::{Store, StoreError, UserRow};

use crate::cache::{CacheConfig, MAX_KEPT_USERNAME, NotVerified, SiteCache, stored_digest};
use crate::credentials::{decode_password, decode_username};
use crate::recent::Fresh;
use crate::stats;
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
    /// An active user, and when the row was read.
    Active(UserRow, Instant),
    Refused(Decision),
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
        let key = self.cache.credential_key(&username, &password);
        let (user, read_at) = match self.lookup(&username).await? {
            Lookup::Active(user, read_at) => (user, read_at),
            Lookup::Refused(decision) => {
                let (hashers, kdf) = (self.hashers.clone(), self.kdf.clone());
                let dummy = async move { kdf.run(move || hashers.dummy()).await };
                self.cache.dummies.share(key, dummy).await?;
                return Ok(decision);
            }
        };
        let digest = stored_digest(user.password.as_deref());
        match self.cache.credentials.get(&key) {
            Some(known) if known == digest => {
                stats::count_credential_lookup(&self.name, true);
                return self.decide(user, read_at, requirement).await;
            }
            // Verified against a hash that has changed since: check again.
            Some(_) => self.cache.credentials.remove(&key),
            None => {}
        }
        stats::count_credential_lookup(&self.name, false);
        let (hashers, kdf) = (self.hashers.clone(), self.kdf.clone());
        let encoded = user.password.clone();
        let check = async move {
            let outcome = kdf
                .run(move || hashers.check(password.as_bytes(), encoded.as_deref()))
                .await
                .map_err(|e| Arc::new(NotVerified::Failed(e)))?;
            match outcome {
                Outcome::Match(_) => Ok(()),
                other => Err(Arc::new(NotVerified::Outcome(other))),
            }
        };
        match self.cache.checks.share((key, digest), check).await {
            Ok(()) => {
                self.cache.credentials.insert(key, digest);
                self.decide(user, read_at, requirement).await
            }
            Err(failure) => match &*failure {
                NotVerified::Failed(e) => Err(e.clone()),
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
            Lookup::Active(user, read_at) => self.decide(user, read_at, requirement).await,
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
        let kept = (username.len() <= MAX_KEPT_USERNAME)
            .then_some(self.cache.users.as_ref())
            .flatten();
        let found = match kept {
            Some(users) => match users.get(&username.to_owned()) {
                Some(found) => Ok(found),
                None => {
                    let read_at = Instant::now();
                    let found = self.store.find_user(username).await;
                    if let Ok(user) = &found {
                        users.insert(username.to_owned(), user.clone(), read_at);
                    }
                    found.map(|user| (user, read_at))
                }
            },
            None => {
                let read_at = Instant::now();
                self.store
                    .find_user(username)
                    .await
                    .map(|user| (user, read_at))
            }
        };
        match found {
            Ok((None, _)) => Ok(Lookup::Refused(Decision::NotFound)),
            Ok((Some(user), _)) if !user.is_active => {
                Ok(Lookup::Refused(Decision::Denied(Denial::Inactive)))
            }
            // No front door can carry such a name (a header, a FastCGI
            // variable, Apache's environment): refused before any password
            // is verified, so its timing says nothing about the password.
            Ok((Some(user), _)) if user.username.chars().any(char::is_control) => {
                tracing::warn!(
                    site = %self.name,
                    user = ?user.username,
                    user_id = user.id,
                    "the stored username contains control characters; refused"
                );
                Ok(Lookup::Refused(Decision::Denied(Denial::BadUserRow)))
            }
            Ok((Some(user), read_at)) => Ok(Lookup::Active(user, read_at)),
            Err(e) => match &e {
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
                _ => Err(PolicyError::Database(Arc::new(e))),
            },
        }
    }

    /// The user's groups, fresh within the window, and when they were read.
    async fn groups(&self, user_id: i64) -> Result<(Arc<Vec<String>>, Instant), PolicyError> {
        let read = self.store.group_names(user_id);
        fresh_within(self.cache.groups.as_ref(), user_id, read).await
    }

    /// The user's permissions, fresh within the window, and when they were read.
    async fn permissions(&self, user_id: i64) -> Result<(Arc<Vec<String>>, Instant), PolicyError> {
        let read = self.store.permissions(user_id);
        fresh_within(self.cache.permissions.as_ref(), user_id, read).await
    }

    /// Grants an active user who meets the requirement. The grant may be
    /// reused until the oldest data it rests on leaves the freshness window.
    async fn decide(
        &self,
        user: UserRow,
        read_at: Instant,
        requirement: &RequirementSet,
    ) -> Result<Decision, PolicyError> {
        let (groups, groups_at) = self.groups(user.id).await?;
        let (permissions, permissions_at) = if requirement.needs_permissions() && !user.is_superuser
        {
            self.permissions(user.id).await?
        } else {
            (Arc::default(), read_at)
        };
        let oldest = read_at.min(groups_at).min(permissions_at);
        let identity = Identity {
            id: user.id,
            username: user.username,
            groups: groups.to_vec(),
            is_staff: user.is_staff,
            is_superuser: user.is_superuser,
            fresh_for: self.freshness().saturating_sub(oldest.elapsed()),
        };
        if requirement.is_met_by(&identity, &permissions) {
            Ok(Decision::Granted(identity))
        } else {
            Ok(Decision::Denied(Denial::RequirementNotMet))
        }
    }

    /// The freshness window (zero when nothing is reused).
    fn freshness(&self) -> Duration {
        self.cache.freshness
    }
}

/// A list from `cache` if it is fresh, else from `read` (then kept).
async fn fresh_within(
    cache: Option<&Fresh<i64, Arc<Vec<String>>>>,
    user_id: i64,
    read: impl Future<Output = Result<Vec<String>, StoreError>>,
) -> Result<(Arc<Vec<String>>, Instant), PolicyError> {
    if let Some(found) = cache.and_then(|c| c.get(&user_id)) {
        return Ok(found);
    }
    let read_at = Instant::now();
    let list = Arc::new(read.await.map_err(|e| PolicyError::Database(Arc::new(e)))?);
    if let Some(cache) = cache {
        cache.insert(user_id, list.clone(), read_at);
    }
    Ok((list, read_at))
}
