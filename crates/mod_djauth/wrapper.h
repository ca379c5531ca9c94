/* The httpd 2.4 and APR declarations mod_djauth uses; input of
 * scripts/regen-apache-ffi, which writes src/ffi.rs with bindgen. */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_request.h"
#include "http_protocol.h"
#include "ap_provider.h"
#include "mod_auth.h"
#include "apr_strings.h"
#include "apr_tables.h"
#include "apr_pools.h"
