// The libsodium adapter (pharos/sealed.h): round trips, and every bad input an error value.
#include "pharos/sealed.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace pharos::sealed {
namespace {

std::string tempPath(const char* name) {
  auto dir =
      std::filesystem::temp_directory_path() / ("pharos-sealed-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  std::filesystem::remove(path);
  return path.string();
}

}  // namespace

TEST_CASE("a sealed box opens with the recipient's key pair and gives back the plaintext") {
  KeyPair kp = generateKeyPair();
  auto box = seal("{\"DB_PASSWORD\":\"hunter2\"}", kp.public_key);
  REQUIRE(box.isOk());
  CHECK(box->size() == 25 + kSealOverhead);
  CHECK(box->find("hunter2") == std::string::npos);
  auto plain = open(*box, kp);
  REQUIRE(plain.isOk());
  CHECK(*plain == "{\"DB_PASSWORD\":\"hunter2\"}");
}

TEST_CASE("sealing the same plaintext twice gives different ciphertext") {
  KeyPair kp = generateKeyPair();
  CHECK(*seal("same", kp.public_key) != *seal("same", kp.public_key));
}

TEST_CASE("an empty plaintext round-trips") {
  KeyPair kp = generateKeyPair();
  auto box = seal("", kp.public_key);
  REQUIRE(box.isOk());
  CHECK(*open(*box, kp) == "");
}

TEST_CASE("another key pair cannot open a sealed box") {
  KeyPair a = generateKeyPair();
  KeyPair b = generateKeyPair();
  auto box = seal("secret", a.public_key);
  auto opened = open(*box, b);
  CHECK(opened.status().code() == Code::kInvalidArgument);
}

TEST_CASE("a tampered sealed box is refused, whichever byte changed") {
  KeyPair kp = generateKeyPair();
  std::string box = *seal("the plaintext", kp.public_key);
  for (size_t i = 0; i < box.size(); ++i) {
    std::string bad = box;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    CHECK_FALSE(open(bad, kp).isOk());
  }
}

TEST_CASE("truncated or oversized sealed input is an error, never a crash") {
  KeyPair kp = generateKeyPair();
  std::string box = *seal("the plaintext", kp.public_key);
  for (size_t n = 0; n < box.size(); ++n) CHECK_FALSE(open(box.substr(0, n), kp).isOk());
  CHECK(open(std::string(kMaxCiphertextBytes + 1, 'x'), kp).status().code() == Code::kTooLarge);
}

TEST_CASE("keys of the wrong size are refused") {
  KeyPair kp = generateKeyPair();
  CHECK_FALSE(seal("x", "short").isOk());
  CHECK_FALSE(seal("x", kp.public_key + "x").isOk());
  CHECK_FALSE(open(*seal("x", kp.public_key), KeyPair{kp.public_key, "short"}).isOk());
  CHECK_FALSE(keyPairFromSecret("short").isOk());
  CHECK_FALSE(encrypt("x", "short").isOk());
  CHECK_FALSE(decrypt(std::string(64, 'x'), "short").isOk());
}

TEST_CASE("a key pair rebuilt from its secret key has the same public key") {
  KeyPair kp = generateKeyPair();
  auto again = keyPairFromSecret(kp.secret_key);
  REQUIRE(again.isOk());
  CHECK(again->public_key == kp.public_key);
  CHECK(keyId(kp.public_key).size() == 16);
  CHECK(keyId(kp.public_key) == keyId(again->public_key));
  CHECK(keyId(kp.public_key) != keyId(generateKeyPair().public_key));
}

TEST_CASE("at-rest encryption round-trips and refuses another key, tampering and truncation") {
  std::string key = generateStoreKey();
  auto data = encrypt("registry password", key);
  REQUIRE(data.isOk());
  CHECK(data->find("registry password") == std::string::npos);
  CHECK(*decrypt(*data, key) == "registry password");
  CHECK_FALSE(decrypt(*data, generateStoreKey()).isOk());
  for (size_t i = 0; i < data->size(); ++i) {
    std::string bad = *data;
    bad[i] = static_cast<char>(bad[i] ^ 0x80);
    CHECK_FALSE(decrypt(bad, key).isOk());
  }
  for (size_t n = 0; n < data->size(); ++n) CHECK_FALSE(decrypt(data->substr(0, n), key).isOk());
}

TEST_CASE("the keyed digest depends on the key and the text") {
  std::string k1 = generateStoreKey();
  std::string k2 = generateStoreKey();
  CHECK(keyedDigest("a", k1) == keyedDigest("a", k1));
  CHECK(keyedDigest("a", k1) != keyedDigest("b", k1));
  CHECK(keyedDigest("a", k1) != keyedDigest("a", k2));
}

TEST_CASE("base64 round-trips and refuses what is not base64") {
  for (std::string s : {std::string(), std::string("f"), std::string("fo"), std::string("foo"),
                        std::string("\0\xff\x10", 3)}) {
    CHECK(*fromBase64(toBase64(s)) == s);
  }
  CHECK(toBase64("foo") == "Zm9v");
  for (const char* bad : {"Zm9", "Zm9v!", "Zm 9v", "====", "Zm9v\n", "Z"}) {
    CHECK_MESSAGE(!fromBase64(bad).isOk(), bad);
  }
}

TEST_CASE("a key file is created mode 0600, read back, and never overwritten") {
  std::string path = tempPath("node.key");
  bool created = false;
  auto key = loadOrCreateKeyFile(
      path, kSecretKeyBytes, [] { return generateKeyPair().secret_key; }, &created);
  REQUIRE(key.isOk());
  CHECK(created);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = loadOrCreateKeyFile(
      path, kSecretKeyBytes, [] { return generateKeyPair().secret_key; }, &created);
  REQUIRE(again.isOk());
  CHECK_FALSE(created);
  CHECK(*again == *key);
  CHECK(createKeyFile(path, generateStoreKey()).code() == Code::kUnavailable);
  CHECK(*loadKeyFile(path, kSecretKeyBytes) == *key);
}

TEST_CASE("a key file open to others, of the wrong size or not base64 is refused") {
  std::string path = tempPath("bad.key");
  REQUIRE(createKeyFile(path, generateStoreKey()).isOk());
  CHECK_FALSE(loadKeyFile(path, 16).isOk());
  ::chmod(path.c_str(), 0644);
  CHECK(loadKeyFile(path, kStoreKeyBytes).status().code() == Code::kPermissionDenied);
  std::filesystem::remove(path);
  {
    std::ofstream out(path);
    out << "not base64!\n";
  }
  ::chmod(path.c_str(), 0600);
  CHECK(loadKeyFile(path, kStoreKeyBytes).status().code() == Code::kInvalidArgument);
  CHECK(loadKeyFile(tempPath("absent.key"), kStoreKeyBytes).status().code() == Code::kNotFound);
}

}  // namespace pharos::sealed
