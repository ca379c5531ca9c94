//! One Django project: its database, its hashers, and the decisions about its users.

use std::sync::Arc;

use djauth_hashers::{Hashers, Outcome};
use djauth_store::{Store, StoreError, UserRow};

use crate::credentials::{decode_password, decode_username};
use crate::{Decision, Denial, Identity, KdfPool, PolicyError, RequirementSet};

/// A Django site djauth answers for.
#[derive(Debug, Clone)]
pub struct Site {
    name: String,
    store: Store,
    hashers: Arc<Hashers>,
    kdf: KdfPool,
}

/// What the user lookup found.
enum Lookup {
    Active(UserRow),
    Refused(Decision),
}

impl Site {
    /// A site named `name` reading `store`, verifying with `hashers` on `kdf`.
    pub fn new(name: impl Into<String>, store: Store, hashers: Arc<Hashers>, kdf: KdfPool) -> Site {
        Site {
            name: name.into(),
            store,
            hashers,
            kdf,
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

    /// Checks a username and password, then the requirement.
    ///
    /// Unknown, inactive and ambiguous users cost one dummy hash at the
    /// preferred hasher's current parameters, like a real check.
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
        let hashers = self.hashers.clone();
        let encoded = user.password.clone();
        let outcome = self
            .kdf
            .run(move || hashers.check(password.as_bytes(), encoded.as_deref()))
            .await?;
        match outcome {
            Outcome::Match(_) => self.decide(user, requirement).await,
            Outcome::Malformed { algorithm, reason } => {
                tracing::warn!(
                    site = %self.name,
                    user = ?user.username,
                    user_id = user.id,
                    algorithm = algorithm.name(),
                    "stored password hash is malformed ({reason}); login refused"
                );
                Ok(Decision::Denied(Denial::MalformedHash))
            }
            Outcome::Null => {
                tracing::warn!(
                    site = %self.name,
                    user = ?user.username,
                    user_id = user.id,
                    "stored password is NULL; login refused"
                );
                Ok(Decision::Denied(Denial::MalformedHash))
            }
            Outcome::Mismatch(_) => Ok(Decision::Denied(Denial::WrongPassword)),
            Outcome::Unusable => Ok(Decision::Denied(Denial::UnusablePassword)),
            Outcome::UnknownAlgorithm => Ok(Decision::Denied(Denial::UnknownAlgorithm)),
            Outcome::Disabled(_) => Ok(Decision::Denied(Denial::HasherNotEnabled)),
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

    /// Finds the user; unknown, inactive and ambiguous users are refused.
    async fn lookup(&self, username: &str) -> Result<Lookup, PolicyError> {
        // No Django username holds a NUL, and PostgreSQL cannot even compare one.
        if username.contains('\0') {
            return Ok(Lookup::Refused(Decision::NotFound));
        }
        match self.store.find_user(username).await {
            Ok(None) => Ok(Lookup::Refused(Decision::NotFound)),
            Ok(Some(user)) if !user.is_active => {
                Ok(Lookup::Refused(Decision::Denied(Denial::Inactive)))
            }
            Ok(Some(user)) => Ok(Lookup::Active(user)),
            Err(StoreError::DuplicateUser(name)) => {
                tracing::warn!(
                    site = %self.name,
                    user = ?name,
                    "several user rows match this username; refused"
                );
                Ok(Lookup::Refused(Decision::Denied(Denial::AmbiguousUser)))
            }
            Err(e @ StoreError::BadRow { .. }) => {
                tracing::warn!(site = %self.name, "{e}; refused");
                Ok(Lookup::Refused(Decision::Denied(Denial::BadUserRow)))
            }
            Err(e) => Err(PolicyError::Database(e)),
        }
    }

    /// Grants an active user who meets the requirement.
    async fn decide(
        &self,
        user: UserRow,
        requirement: &RequirementSet,
    ) -> Result<Decision, PolicyError> {
        let groups = self
            .store
            .group_names(user.id)
            .await
            .map_err(PolicyError::Database)?;
        let permissions = if requirement.needs_permissions() && !user.is_superuser {
            self.store
                .permissions(user.id)
                .await
                .map_err(PolicyError::Database)?
        } else {
            Vec::new()
        };
        let identity = Identity {
            id: user.id,
            username: user.username,
            groups,
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
