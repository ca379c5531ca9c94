//! mod_djauth: Apache httpd 2.4 authentication and authorization against a
//! Django project's users, as a thin client of the djauth daemon.
//!
//! ```apache
//! LoadModule djauth_module /usr/lib/apache2/modules/mod_djauth.so
//! <Location "/secret/">
//!     AuthType Basic
//!     AuthName "Django users"
//!     AuthBasicProvider django
//!     DjangoAuthSocket /run/djauth/djauth.sock
//!     Require django-group "secret agents"
//! </Location>
//! ```
//!
//! Registers the authn provider `django` and the authz providers
//! `django-group`, `django-perm`, `django-user`, `django-staff` and
//! `django-superuser`, and the directives `DjangoAuthSocket`,
//! `DjangoAuthSite` and `DjangoAuthCharset`. Every question goes to the daemon over its Unix socket
//! (djauth-proto); the module holds no database credentials. It keeps idle
//! connections, and repeats a grant to the same question for as long as
//! the daemon allows it (what is left of the site's freshness window,
//! nothing with `cache_freshness = 0`), so a cached login costs no round
//! trip; refusals and errors are never repeated.
//!
//! FFI rules followed here (see the project's research notes): the module
//! struct is a writable `static mut`; every callback runs inside
//! `catch_unwind`; configuration lives in pool-allocated per-directory
//! structs, never in Rust statics; connections are opened lazily in the
//! children and dropped in `child_init`; no threads, no thread-locals.

#[allow(
    non_upper_case_globals,
    non_camel_case_types,
    non_snake_case,
    dead_code,
    unnecessary_transmutes,
    clippy::all
)]
mod ffi;

use std::ffi::{CStr, CString, c_char, c_int, c_ulong, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::ptr::{null, null_mut};

use djauth_proto::{
    Client, ClientError, Reply, Request, RequireKind, Reuse, Timeouts, encode_groups,
};
use zeroize::Zeroizing;

use ffi::*;

/// Where the daemon listens when no `DjangoAuthSocket` applies.
const DEFAULT_SOCKET: &CStr = c"/run/djauth/djauth.sock";

/// Idle daemon connections of this process, reused by its threads.
static CLIENT: Client = Client::new();

/// Grants this process may repeat without asking (see `djauth_proto::Reuse`).
static REUSE: Reuse = Reuse::new();

/// The module record httpd loads (`LoadModule djauth_module …`). It must be
/// writable: httpd stores its index and load handle in it.
#[unsafe(no_mangle)]
pub static mut djauth_module: module = module {
    version: MODULE_MAGIC_NUMBER_MAJOR as c_int,
    minor_version: MODULE_MAGIC_NUMBER_MINOR as c_int,
    module_index: -1,
    name: c"mod_djauth.c".as_ptr(),
    dynamic_load_handle: null_mut(),
    next: null_mut(),
    magic: MODULE_MAGIC_COOKIE as c_ulong,
    rewrite_args: None,
    create_dir_config: Some(create_dir_conf),
    merge_dir_config: Some(merge_dir_conf),
    create_server_config: None,
    merge_server_config: None,
    cmds: &raw const COMMANDS.0 as *const command_rec,
    register_hooks: Some(register_hooks),
    flags: 0,
};

/// Per-directory configuration, allocated from Apache's pools.
#[repr(C)]
struct DirConf {
    /// `DjangoAuthSocket`, or NULL.
    socket: *const c_char,
    /// `DjangoAuthSite`, or NULL (the daemon's only site).
    site: *const c_char,
    /// `DjangoAuthCharset`: 1 on, 0 off, -1 not set here (off).
    charset: c_int,
}

struct Commands([command_rec; 4]);
// SAFETY: httpd only reads the table; the pointers are to static strings and functions.
unsafe impl Sync for Commands {}

const DIRECTIVE_SCOPE: c_int = (RSRC_CONF | ACCESS_CONF | OR_AUTHCFG) as c_int;

static COMMANDS: Commands = Commands([
    command_rec {
        name: c"DjangoAuthSocket".as_ptr(),
        func: cmd_func {
            take1: Some(set_socket),
        },
        cmd_data: null_mut(),
        req_override: DIRECTIVE_SCOPE,
        args_how: TAKE1,
        errmsg:
            c"Absolute path of the djauth daemon's Unix socket (default /run/djauth/djauth.sock)"
                .as_ptr(),
    },
    command_rec {
        name: c"DjangoAuthSite".as_ptr(),
        func: cmd_func {
            take1: Some(set_site),
        },
        cmd_data: null_mut(),
        req_override: DIRECTIVE_SCOPE,
        args_how: TAKE1,
        errmsg: c"Name of the Django site in djauth's configuration (default: its only site)"
            .as_ptr(),
    },
    command_rec {
        name: c"DjangoAuthCharset".as_ptr(),
        func: cmd_func {
            flag: Some(set_charset),
        },
        cmd_data: null_mut(),
        req_override: DIRECTIVE_SCOPE,
        args_how: FLAG,
        errmsg: c"On: the Basic challenge of a 401 here says charset=\"UTF-8\" (RFC 7617)".as_ptr(),
    },
    command_rec {
        name: null(),
        func: cmd_func { take1: None },
        cmd_data: null_mut(),
        req_override: 0,
        args_how: RAW_ARGS,
        errmsg: null(),
    },
]);

static AUTHN: authn_provider = authn_provider {
    check_password: Some(check_password),
    // Django keeps no realm hashes: `AuthDigestProvider django` is refused.
    get_realm_hash: None,
};

const fn authz(index: usize) -> authz_provider {
    authz_provider {
        check_authorization: Some(check_authorization),
        parse_require_line: Some(match index {
            0 => parse_require::<0>,
            1 => parse_require::<1>,
            2 => parse_require::<2>,
            3 => parse_require::<3>,
            _ => parse_require::<4>,
        }),
    }
}

/// One provider per `RequireKind::ALL` entry, in that order.
static AUTHZ: [authz_provider; 5] = [authz(0), authz(1), authz(2), authz(3), authz(4)];

fn module_index() -> c_int {
    // SAFETY: httpd writes the index once while loading, before any request.
    unsafe { djauth_module.module_index }
}

/// Runs `f`, turning a panic into `fallback` and one error-log line.
fn guard<T>(r: *const request_rec, fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => value,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            if !r.is_null() {
                log_request(r, APLOG_ERR, &format!("internal error (panic: {what})"));
            }
            fallback
        }
    }
}

/// A C string for Apache; NUL bytes (never expected) are shown as `\0`.
fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\\0")).unwrap_or_default()
}

/// Whether a message at `level` would be written for this request (httpd's
/// `APLOG_R_MODULE_IS_LEVEL`): `LogLevel djauth:info` or the server's level.
fn log_enabled(r: *const request_rec, level: u32) -> bool {
    // SAFETY: `r` is the live request; its log config lives as long as it.
    unsafe {
        let conf = if !(*r).log.is_null() {
            (*r).log
        } else if !(*r).server.is_null() {
            &raw const (*(*r).server).log
        } else {
            return true;
        };
        let index = module_index();
        let mut effective = (*conf).level;
        if index >= 0 && !(*conf).module_levels.is_null() {
            let own = *(*conf).module_levels.add(index as usize);
            if own >= 0 {
                effective = c_int::from(own);
            }
        }
        level as c_int <= effective
    }
}

/// Logs `message()` for the request, formatting it only if it will be written.
fn log_lazy(r: *const request_rec, level: u32, message: impl FnOnce() -> String) {
    if log_enabled(r, level) {
        log_request(r, level, &message());
    }
}

fn log_request(r: *const request_rec, level: u32, message: &str) {
    let message = c_string(message);
    // SAFETY: `r` is the live request; "%s" takes exactly one C string.
    unsafe {
        ap_log_rerror_(
            c"mod_djauth.rs".as_ptr(),
            line!() as c_int,
            module_index(),
            level as c_int,
            0,
            r,
            c"%s".as_ptr(),
            message.as_ptr(),
        );
    }
}

/// A pool copy of `text` (for configuration errors and values).
///
/// # Safety
/// `pool` must be a live APR pool.
unsafe fn pool_string(pool: *mut apr_pool_t, text: &str) -> *const c_char {
    let text = c_string(text);
    // SAFETY: apr_pstrdup copies the NUL-terminated string into the pool.
    unsafe { apr_pstrdup(pool, text.as_ptr()) }
}

unsafe extern "C" fn create_dir_conf(pool: *mut apr_pool_t, _dir: *mut c_char) -> *mut c_void {
    guard(null(), null_mut(), || {
        // SAFETY: a fresh pool allocation of the struct's size, then initialised.
        unsafe {
            let conf = apr_palloc(pool, size_of::<DirConf>() as apr_size_t) as *mut DirConf;
            if !conf.is_null() {
                conf.write(DirConf {
                    socket: null(),
                    site: null(),
                    charset: -1,
                });
            }
            conf as *mut c_void
        }
    })
}

/// Runs per request for merged locations: reads both, writes only the new struct.
unsafe extern "C" fn merge_dir_conf(
    pool: *mut apr_pool_t,
    base: *mut c_void,
    add: *mut c_void,
) -> *mut c_void {
    guard(null(), null_mut(), || {
        // SAFETY: base and add are DirConf structs made by create_dir_conf.
        unsafe {
            let (base, add) = (&*(base as *const DirConf), &*(add as *const DirConf));
            let conf = apr_palloc(pool, size_of::<DirConf>() as apr_size_t) as *mut DirConf;
            if !conf.is_null() {
                conf.write(DirConf {
                    socket: if add.socket.is_null() {
                        base.socket
                    } else {
                        add.socket
                    },
                    site: if add.site.is_null() {
                        base.site
                    } else {
                        add.site
                    },
                    charset: if add.charset < 0 {
                        base.charset
                    } else {
                        add.charset
                    },
                });
            }
            conf as *mut c_void
        }
    })
}

unsafe extern "C" fn set_socket(
    cmd: *mut cmd_parms,
    conf: *mut c_void,
    arg: *const c_char,
) -> *const c_char {
    guard(null(), c"DjangoAuthSocket: internal error".as_ptr(), || {
        // SAFETY: httpd passes its cmd_parms, our DirConf and a C string.
        unsafe {
            let value = CStr::from_ptr(arg).to_bytes();
            if value.first() != Some(&b'/') {
                return c"DjangoAuthSocket needs an absolute path, e.g. /run/djauth/djauth.sock"
                    .as_ptr();
            }
            if value.len() >= 108 {
                return c"DjangoAuthSocket: the path is too long for a Unix socket (107 bytes at most)"
                    .as_ptr();
            }
            (*(conf as *mut DirConf)).socket = apr_pstrdup((*cmd).pool, arg);
            null()
        }
    })
}

unsafe extern "C" fn set_site(
    cmd: *mut cmd_parms,
    conf: *mut c_void,
    arg: *const c_char,
) -> *const c_char {
    guard(null(), c"DjangoAuthSite: internal error".as_ptr(), || {
        // SAFETY: as in set_socket.
        unsafe {
            let value = CStr::from_ptr(arg).to_bytes();
            if value.is_empty() || std::str::from_utf8(value).is_err() {
                return c"DjangoAuthSite needs a site name from djauth's configuration".as_ptr();
            }
            (*(conf as *mut DirConf)).site = apr_pstrdup((*cmd).pool, arg);
            null()
        }
    })
}

unsafe extern "C" fn set_charset(
    _cmd: *mut cmd_parms,
    conf: *mut c_void,
    on: c_int,
) -> *const c_char {
    guard(
        null(),
        c"DjangoAuthCharset: internal error".as_ptr(),
        || {
            // SAFETY: httpd passes our DirConf.
            unsafe { (*(conf as *mut DirConf)).charset = c_int::from(on != 0) };
            null()
        },
    )
}

/// `Require django-KIND args…`: checked and turned into a requirement once, at start-up.
unsafe extern "C" fn parse_require<const KIND: usize>(
    cmd: *mut cmd_parms,
    require_line: *const c_char,
    parsed: *mut *const c_void,
) -> *const c_char {
    guard(
        null(),
        c"Require django-…: internal error".as_ptr(),
        || {
            // SAFETY: httpd passes its cmd_parms, the raw argument text and an out pointer.
            unsafe {
                let pool = (*cmd).pool;
                let mut line = require_line;
                let mut words: Vec<&[u8]> = Vec::new();
                while !line.is_null() && *line != 0 {
                    // Apache's own quoting rules; the words live in the config pool.
                    let word = ap_getword_conf(pool, &mut line);
                    if word.is_null() {
                        break;
                    }
                    let word = CStr::from_ptr(word).to_bytes();
                    if !word.is_empty() {
                        words.push(word);
                    }
                }
                match RequireKind::ALL[KIND].requirement(&words) {
                    Ok(requirement) => {
                        *parsed = pool_string(pool, &requirement) as *const c_void;
                        null()
                    }
                    Err(message) => pool_string(pool, &message),
                }
            }
        },
    )
}

/// The request's merged configuration (NULL if httpd has none of ours).
///
/// # Safety
/// `r` must be a live request.
unsafe fn dir_conf(r: *const request_rec) -> *const DirConf {
    // SAFETY: per_dir_config is the request's live configuration vector.
    unsafe { ap_get_module_config((*r).per_dir_config, &raw const djauth_module) as *const DirConf }
}

/// The socket path and site of the request's location.
///
/// # Safety
/// `r` must be a live request.
unsafe fn location(r: *const request_rec) -> (&'static Path, String) {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: the per-dir vector and the strings in it live as long as the config pool.
    unsafe {
        let conf = dir_conf(r);
        let (socket, site) = if conf.is_null() {
            (null(), null())
        } else {
            ((*conf).socket, (*conf).site)
        };
        let socket = if socket.is_null() {
            DEFAULT_SOCKET
        } else {
            CStr::from_ptr(socket)
        };
        let site = if site.is_null() {
            String::new()
        } else {
            String::from_utf8_lossy(CStr::from_ptr(site).to_bytes()).into_owned()
        };
        (
            Path::new(std::ffi::OsStr::from_bytes(socket.to_bytes())),
            site,
        )
    }
}

/// What the daemon's answer means for Apache.
enum Outcome {
    Granted,
    NotFound,
    Denied,
    Error,
}

/// Asks the daemon, records a grant on the request, logs refusals and errors.
///
/// # Safety
/// `r` must be a live request.
unsafe fn ask(r: *mut request_rec, request: &Request, user: &[u8], set_user: bool) -> Outcome {
    let (socket, _) = unsafe { location(r) };
    let typed = || String::from_utf8_lossy(user);
    let reply = match REUSE.get(socket, request) {
        Some(reply) => Ok(reply),
        None => CLIENT
            .call(socket, &Timeouts::default(), request)
            .inspect(|reply| REUSE.keep(socket, request, reply)),
    };
    match reply {
        Ok(Reply::Granted {
            username,
            user_id,
            groups,
            ..
        }) => {
            // SAFETY: r is live; the values are copied into its pool and tables.
            unsafe {
                let Ok(name) = CString::new(username.as_str()) else {
                    log_request(r, APLOG_ERR, "djauth granted a username with a NUL byte");
                    return Outcome::Error;
                };
                let groups = CString::new(encode_groups(&groups)).unwrap_or_default();
                let id = c_string(&user_id.to_string());
                if set_user {
                    (*r).user = apr_pstrdup((*r).pool, name.as_ptr());
                }
                let env = (*r).subprocess_env;
                apr_table_set(env, c"DJANGO_USER".as_ptr(), name.as_ptr());
                apr_table_set(env, c"DJANGO_USER_ID".as_ptr(), id.as_ptr());
                apr_table_set(env, c"DJANGO_GROUPS".as_ptr(), groups.as_ptr());
            }
            Outcome::Granted
        }
        Ok(Reply::NotFound) => {
            log_lazy(r, APLOG_INFO, || {
                format!("user {:?} not found by djauth", typed())
            });
            Outcome::NotFound
        }
        Ok(Reply::Denied { reason }) => {
            log_lazy(r, APLOG_INFO, || {
                format!("user {:?} denied by djauth: {reason}", typed())
            });
            Outcome::Denied
        }
        Ok(Reply::Error { message }) => {
            log_request(r, APLOG_ERR, &format!("djauth could not decide: {message}"));
            Outcome::Error
        }
        Ok(Reply::Pong) => {
            log_request(r, APLOG_ERR, "djauth answered a question with a pong");
            Outcome::Error
        }
        Err(e) => {
            let hint = match &e {
                ClientError::Connect { .. } => {
                    " (is djauth running with this [unix] socket, and may Apache's user connect?)"
                }
                _ => "",
            };
            log_request(r, APLOG_ERR, &format!("{e}{hint}"));
            Outcome::Error
        }
    }
}

/// `AuthBasicProvider django`.
unsafe extern "C" fn check_password(
    r: *mut request_rec,
    user: *const c_char,
    password: *const c_char,
) -> authn_status {
    guard(r, AUTH_GENERAL_ERROR, || {
        if user.is_null() || password.is_null() {
            return AUTH_DENIED;
        }
        // SAFETY: mod_auth_basic passes NUL-terminated credentials and the live request.
        unsafe {
            let user = CStr::from_ptr(user).to_bytes();
            let (_, site) = location(r);
            let request = Request::Authenticate {
                site,
                user: user.to_vec(),
                password: Zeroizing::new(CStr::from_ptr(password).to_bytes().to_vec()),
                requirement: "valid-user".into(),
            };
            match ask(r, &request, user, true) {
                Outcome::Granted => AUTH_GRANTED,
                Outcome::NotFound => AUTH_USER_NOT_FOUND,
                Outcome::Denied => AUTH_DENIED,
                Outcome::Error => AUTH_GENERAL_ERROR,
            }
        }
    })
}

/// `Require django-…`, with the requirement made by `parse_require`.
unsafe extern "C" fn check_authorization(
    r: *mut request_rec,
    _require_line: *const c_char,
    parsed: *const c_void,
) -> authz_status {
    guard(r, AUTHZ_GENERAL_ERROR, || {
        // SAFETY: httpd passes the live request and what parse_require stored.
        unsafe {
            if (*r).user.is_null() {
                // Not authenticated yet: let mod_authz_core ask for credentials.
                return AUTHZ_DENIED_NO_USER;
            }
            if parsed.is_null() {
                log_request(r, APLOG_ERR, "Require django-…: no parsed requirement");
                return AUTHZ_GENERAL_ERROR;
            }
            let user = CStr::from_ptr((*r).user).to_bytes();
            let requirement = CStr::from_ptr(parsed as *const c_char)
                .to_string_lossy()
                .into_owned();
            let (_, site) = location(r);
            let request = Request::Authorize {
                site,
                user: user.to_vec(),
                requirement,
            };
            match ask(r, &request, user, false) {
                Outcome::Granted => AUTHZ_GRANTED,
                Outcome::NotFound | Outcome::Denied => AUTHZ_DENIED,
                Outcome::Error => AUTHZ_GENERAL_ERROR,
            }
        }
    })
}

/// The challenge with RFC 7617's charset parameter, if `challenge` is a
/// Basic challenge without one.
fn with_charset(challenge: &[u8]) -> Option<CString> {
    let text = std::str::from_utf8(challenge).ok()?;
    let basic = text
        .get(..6)
        .is_some_and(|s| s.eq_ignore_ascii_case("basic "));
    if !basic || text.to_ascii_lowercase().contains("charset=") {
        return None;
    }
    CString::new(format!("{text}, charset=\"UTF-8\"")).ok()
}

/// An error response is about to be written: where `DjangoAuthCharset On`
/// applies, a 401's Basic challenge (set by mod_auth_basic among the error
/// headers) gets `charset="UTF-8"`.
unsafe extern "C" fn insert_error_filter(r: *mut request_rec) {
    guard(r, (), || {
        // SAFETY: `r` is the live request; the configuration is our DirConf;
        // apr_table_set copies the new value into the request's pool.
        unsafe {
            if (*r).status != 401 {
                return;
            }
            let conf = dir_conf(r);
            if conf.is_null() || (*conf).charset != 1 {
                return;
            }
            let (table, name) = ((*r).err_headers_out, c"WWW-Authenticate");
            if table.is_null() {
                return;
            }
            let current = apr_table_get(table, name.as_ptr());
            if current.is_null() {
                return;
            }
            if let Some(value) = with_charset(CStr::from_ptr(current).to_bytes()) {
                apr_table_set(table, name.as_ptr(), value.as_ptr());
            }
        }
    });
}

/// A new child: connections and grants inherited from the parent are not ours to use.
unsafe extern "C" fn child_init(_pool: *mut apr_pool_t, _server: *mut server_rec) {
    guard(null(), (), || {
        CLIENT.reset();
        REUSE.reset();
    });
}

unsafe extern "C" fn register_hooks(pool: *mut apr_pool_t) {
    guard(null(), (), || {
        // SAFETY: the providers and names are statics that outlive httpd's use.
        unsafe {
            ap_register_auth_provider(
                pool,
                AUTHN_PROVIDER_GROUP.as_ptr() as *const c_char,
                c"django".as_ptr(),
                AUTHN_PROVIDER_VERSION.as_ptr() as *const c_char,
                &raw const AUTHN as *const c_void,
                AP_AUTH_INTERNAL_PER_CONF as c_int,
            );
            for (provider, kind) in AUTHZ.iter().zip(RequireKind::ALL) {
                // httpd keeps the name pointer: it must live in the pool.
                ap_register_auth_provider(
                    pool,
                    AUTHZ_PROVIDER_GROUP.as_ptr() as *const c_char,
                    pool_string(pool, kind.provider()),
                    AUTHZ_PROVIDER_VERSION.as_ptr() as *const c_char,
                    provider as *const authz_provider as *const c_void,
                    AP_AUTH_INTERNAL_PER_CONF as c_int,
                );
            }
            ap_hook_child_init(Some(child_init), null(), null(), APR_HOOK_MIDDLE as c_int);
            ap_hook_insert_error_filter(
                Some(insert_error_filter),
                null(),
                null(),
                APR_HOOK_MIDDLE as c_int,
            );
        }
    });
}
