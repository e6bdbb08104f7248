// The one adapter to libsodium: the device key pairs that secrets documents are sealed to
// (X25519 sealed boxes, crypto_box_seal: anonymous sender, the recipient's public key only),
// the anchor's at-rest key (XSalsa20-Poly1305 secretbox with a random nonce), key files
// (created mode 0600, never overwritten) and the base64 text form of keys and ciphertext.
// docs/security.md "Sealed secrets" says what each key protects.
//
// Every function returns an error value on bad input (wrong key, tampered, truncated or
// oversized data, bad base64); none throws or aborts. Keys and plaintext are plain
// std::strings of raw bytes. Thread-safe: libsodium is initialised once (sodium_init is
// idempotent and thread-safe) by the first call.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "pharos/status.h"

namespace pharos::sealed {

inline constexpr size_t kPublicKeyBytes = 32;  // crypto_box_PUBLICKEYBYTES
inline constexpr size_t kSecretKeyBytes = 32;  // crypto_box_SECRETKEYBYTES
inline constexpr size_t kStoreKeyBytes = 32;   // crypto_secretbox_KEYBYTES
inline constexpr size_t kSealOverhead = 48;    // crypto_box_SEALBYTES
// Ciphertext (after base64 decoding) beyond this is refused before any work.
inline constexpr size_t kMaxCiphertextBytes = size_t{8} << 20;

// A device key pair (raw bytes).
struct KeyPair {
  std::string public_key;
  std::string secret_key;
};

// A fresh random key pair.
KeyPair generateKeyPair();
// The key pair of a secret key (the public key is derived from it).
Result<KeyPair> keyPairFromSecret(std::string_view secret_key);
// 16 hex digits naming a public key (BLAKE2b-64 of it): what documents and logs show.
std::string keyId(std::string_view public_key);

// crypto_box_seal: only the holder of the matching secret key can open the result.
Result<std::string> seal(std::string_view plaintext, std::string_view public_key);
// Opens a sealed box; invalid_argument when it is too short, tampered or for another key.
Result<std::string> open(std::string_view ciphertext, const KeyPair& keys);

// A fresh random at-rest key.
std::string generateStoreKey();
// nonce || secretbox(plaintext); and the reverse (invalid_argument when wrong or damaged).
Result<std::string> encrypt(std::string_view plaintext, std::string_view store_key);
Result<std::string> decrypt(std::string_view data, std::string_view store_key);
// Keyed BLAKE2b-128 of `text` as hex: a digest that reveals nothing without the key (the
// anchor's change detection of secrets documents).
std::string keyedDigest(std::string_view text, std::string_view store_key);

// Standard base64 with padding.
std::string toBase64(std::string_view bytes);
Result<std::string> fromBase64(std::string_view text);

// A key file holds one line: the base64 of `bytes` raw bytes. loadKeyFile reads it (refusing
// a file readable by group or others, or of the wrong length); createKeyFile writes a new
// one with mode 0600 (O_EXCL: never replaces an existing file) and returns its bytes.
// loadOrCreateKeyFile creates it when absent; `created` tells which happened.
Result<std::string> loadKeyFile(const std::string& path, size_t bytes);
Status createKeyFile(const std::string& path, std::string_view key);
Result<std::string> loadOrCreateKeyFile(const std::string& path, size_t bytes,
                                        std::string (*generate)(), bool* created = nullptr);

}  // namespace pharos::sealed
