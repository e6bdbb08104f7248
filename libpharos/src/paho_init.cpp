// See paho_init.h.
#include "pharos/paho_init.h"

#include <MQTTAsync.h>

namespace pharos {

void skipPahoOpenSslInit() {
  MQTTAsync_init_options options = MQTTAsync_init_options_initializer;
  options.do_openssl_init = 0;
  MQTTAsync_global_init(&options);
}

}  // namespace pharos
