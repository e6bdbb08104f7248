// Process-wide Paho set-up. Paho C initialises OpenSSL eagerly when a process creates its
// first client (every error string, cipher and digest loaded): about 1.3 MB of libcrypto
// pages and heap in a process that may never open a TLS connection. OpenSSL 1.1 and later
// initialise themselves on first use (SSL_CTX_new), so a TLS link still works without that
// step. Call once, before the first Paho client is created; not thread-safe.
#pragma once

namespace pharos {

// Leaves OpenSSL's initialisation to OpenSSL itself (MQTTAsync_global_init with
// do_openssl_init = 0).
void skipPahoOpenSslInit();

}  // namespace pharos
