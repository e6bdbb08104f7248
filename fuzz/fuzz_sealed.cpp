// libFuzzer target for what an agent does with a secrets document from the network: decode
// the sealed envelope (v2), base64-decode and open the box with the device's key pair, decode
// the plaintext content, and the at-rest decryption the anchor applies to its own records.
// The key pair is fixed (secret key = 32 bytes of 0x01), so seeds sealed to it reach the
// content decoder. Errors are expected; crashes and sanitizer reports are bugs.
// Seeds: fuzz/corpus/sealed. Single-threaded, as libFuzzer runs it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pharos/messages.h"
#include "pharos/sealed.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pharos;  // NOLINT(google-build-using-namespace)
  static const sealed::KeyPair kKeys = *sealed::keyPairFromSecret(std::string(32, '\x01'));
  static const std::string kStoreKey(32, '\x02');
  std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto doc = decodeSealedSecrets(input)) {
    auto content = openSecrets(*doc, "press-07", kKeys.public_key, kKeys.secret_key);
    if (content && (content->node != "press-07" || content->generation != doc->generation)) {
      __builtin_trap();
    }
  }
  (void)sealed::open(input, kKeys);
  (void)sealed::decrypt(input, kStoreKey);
  if (auto raw = sealed::fromBase64(input)) {
    auto again = sealed::fromBase64(sealed::toBase64(*raw));
    if (!again || *again != *raw) __builtin_trap();
  }
  return 0;
}
