// libsodium adapter (sealed.h). Every size is checked before a libsodium call, so a call
// never reads or writes out of bounds whatever the input; libsodium's failures become
// Status values.
#include "pharos/sealed.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace pharos::sealed {
namespace {

static_assert(kPublicKeyBytes == crypto_box_PUBLICKEYBYTES);
static_assert(kSecretKeyBytes == crypto_box_SECRETKEYBYTES);
static_assert(kStoreKeyBytes == crypto_secretbox_KEYBYTES);
static_assert(kSealOverhead == crypto_box_SEALBYTES);

void ensureInit() {
  // sodium_init is thread-safe and idempotent; -1 means no usable randomness, which no
  // caller could work around.
  static const bool ready = sodium_init() >= 0;
  if (!ready) std::abort();
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

std::string hex(const unsigned char* data, size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, size);
  out.pop_back();
  return out;
}

Status sizeError(const char* what, size_t got, size_t want) {
  return Status::invalidArgument(std::string(what) + " must be " + std::to_string(want) +
                                 " bytes, got " + std::to_string(got));
}

}  // namespace

KeyPair generateKeyPair() {
  ensureInit();
  KeyPair kp;
  kp.public_key.resize(kPublicKeyBytes);
  kp.secret_key.resize(kSecretKeyBytes);
  crypto_box_keypair(bytes(kp.public_key), bytes(kp.secret_key));
  return kp;
}

Result<KeyPair> keyPairFromSecret(std::string_view secret_key) {
  ensureInit();
  if (secret_key.size() != kSecretKeyBytes) {
    return sizeError("a secret key", secret_key.size(), kSecretKeyBytes);
  }
  KeyPair kp;
  kp.secret_key = std::string(secret_key);
  kp.public_key.resize(kPublicKeyBytes);
  if (crypto_scalarmult_base(bytes(kp.public_key), bytes(secret_key)) != 0) {
    return Status::invalidArgument("not a usable secret key");
  }
  return kp;
}

std::string keyId(std::string_view public_key) {
  ensureInit();
  unsigned char digest[8];
  crypto_generichash(digest, sizeof digest, bytes(public_key), public_key.size(), nullptr, 0);
  return hex(digest, sizeof digest);
}

Result<std::string> seal(std::string_view plaintext, std::string_view public_key) {
  ensureInit();
  if (public_key.size() != kPublicKeyBytes) {
    return sizeError("a public key", public_key.size(), kPublicKeyBytes);
  }
  if (plaintext.size() > kMaxCiphertextBytes - kSealOverhead) {
    return Status::tooLarge("plaintext of " + std::to_string(plaintext.size()) + " bytes");
  }
  std::string out(plaintext.size() + kSealOverhead, '\0');
  if (crypto_box_seal(bytes(out), bytes(plaintext), plaintext.size(), bytes(public_key)) != 0) {
    return Status::invalidArgument("the public key cannot be sealed to");
  }
  return out;
}

Result<std::string> open(std::string_view ciphertext, const KeyPair& keys) {
  ensureInit();
  if (keys.public_key.size() != kPublicKeyBytes || keys.secret_key.size() != kSecretKeyBytes) {
    return Status::invalidArgument("incomplete key pair");
  }
  if (ciphertext.size() < kSealOverhead) {
    return Status::invalidArgument("sealed data is " + std::to_string(ciphertext.size()) +
                                   " bytes, shorter than a sealed box");
  }
  if (ciphertext.size() > kMaxCiphertextBytes) {
    return Status::tooLarge("sealed data of " + std::to_string(ciphertext.size()) + " bytes");
  }
  std::string out(ciphertext.size() - kSealOverhead, '\0');
  if (crypto_box_seal_open(bytes(out), bytes(ciphertext), ciphertext.size(), bytes(keys.public_key),
                           bytes(keys.secret_key)) != 0) {
    return Status::invalidArgument("cannot open: sealed to another key, or damaged");
  }
  return out;
}

std::string generateStoreKey() {
  ensureInit();
  std::string key(kStoreKeyBytes, '\0');
  crypto_secretbox_keygen(bytes(key));
  return key;
}

Result<std::string> encrypt(std::string_view plaintext, std::string_view store_key) {
  ensureInit();
  if (store_key.size() != kStoreKeyBytes) {
    return sizeError("the store key", store_key.size(), kStoreKeyBytes);
  }
  constexpr size_t kNonce = crypto_secretbox_NONCEBYTES;
  std::string out(kNonce + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  randombytes_buf(out.data(), kNonce);
  crypto_secretbox_easy(bytes(out) + kNonce, bytes(plaintext), plaintext.size(), bytes(out),
                        bytes(store_key));
  return out;
}

Result<std::string> decrypt(std::string_view data, std::string_view store_key) {
  ensureInit();
  if (store_key.size() != kStoreKeyBytes) {
    return sizeError("the store key", store_key.size(), kStoreKeyBytes);
  }
  constexpr size_t kHead = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
  if (data.size() < kHead) {
    return Status::invalidArgument("encrypted data is " + std::to_string(data.size()) +
                                   " bytes, shorter than its header");
  }
  std::string out(data.size() - kHead, '\0');
  if (crypto_secretbox_open_easy(bytes(out), bytes(data) + crypto_secretbox_NONCEBYTES,
                                 data.size() - crypto_secretbox_NONCEBYTES, bytes(data),
                                 bytes(store_key)) != 0) {
    return Status::invalidArgument("cannot decrypt: another key, or damaged");
  }
  return out;
}

std::string keyedDigest(std::string_view text, std::string_view store_key) {
  ensureInit();
  unsigned char digest[16];
  crypto_generichash(digest, sizeof digest, bytes(text), text.size(), bytes(store_key),
                     store_key.size());
  return hex(digest, sizeof digest);
}

std::string toBase64(std::string_view data) {
  ensureInit();
  constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_ENCODED_LEN(data.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes(data), data.size(), kVariant);
  out.pop_back();  // the terminating NUL
  return out;
}

Result<std::string> fromBase64(std::string_view text) {
  ensureInit();
  if (text.size() > kMaxCiphertextBytes / 3 * 4 + 4) {
    return Status::tooLarge("base64 text of " + std::to_string(text.size()) + " bytes");
  }
  std::string out(text.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(bytes(out), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return Status::invalidArgument("not base64");
  }
  out.resize(len);
  return out;
}

Result<std::string> loadKeyFile(const std::string& path, size_t size) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::notFound(path + ": no key file");
    return Status::unavailable(path + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    return Status::permissionDenied(path + ": key file open to group or others (mode " + mode +
                                    "); make it 0600");
  }
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return Status::unavailable(path + ": cannot read");
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  auto key = fromBase64(line);
  if (!key || key->size() != size) {
    return Status::invalidArgument(path + ": not a key file (one line: base64 of " +
                                   std::to_string(size) + " bytes)");
  }
  return key;
}

Status createKeyFile(const std::string& path, std::string_view key) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::unavailable("create " + path + ": " + std::strerror(errno));
  std::string text = toBase64(key) + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  sodium_memzero(text.data(), text.size());
  if (!ok) {
    ::unlink(path.c_str());
    return Status::unavailable("write " + path + ": " + std::strerror(errno));
  }
  return Status::ok();
}

Result<std::string> loadOrCreateKeyFile(const std::string& path, size_t size,
                                        std::string (*generate)(), bool* created) {
  if (created) *created = false;
  auto loaded = loadKeyFile(path, size);
  if (loaded || loaded.status().code() != Code::kNotFound) return loaded;
  std::string key = generate();
  PHAROS_RETURN_IF_ERROR(createKeyFile(path, key));
  if (created) *created = true;
  return key;
}

}  // namespace pharos::sealed
