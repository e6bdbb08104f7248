// pharos-anchor process wiring (service.h). The main thread waits for the stop flag; the
// core runs on a two-thread pool behind one strand; the Paho link has its own I/O thread.
#include "anchor/service.h"

#include <filesystem>
#include <future>
#include <thread>

#include "anchor/broker_admin.h"
#include "anchor/registry.h"
#include "anchor/store.h"
#include "anchor/store_backup.h"
#include "pharos/log.h"
#include "pharos/sd_notify.h"
#include "pharos/sealed.h"

namespace pharos::anchor {

namespace {

bool waitOrStop(const volatile std::sig_atomic_t& stop, std::chrono::milliseconds total) {
  auto end = std::chrono::steady_clock::now() + total;
  while (std::chrono::steady_clock::now() < end) {
    if (stop) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return !stop;
}

}  // namespace

int runAnchor(const AnchorSettings& options, const volatile std::sig_atomic_t& stop) {
  auto store = openRocksDbStore(options.data_dir);
  if (!store) {
    spdlog::error("cannot open the store in {}: {}", options.data_dir, store.status().message());
    return 1;
  }
  // The at-rest key of secrets: created beside the store on first start, never in it.
  std::string key_path = secretsKeyPath(options);
  bool key_created = false;
  auto secrets_key = sealed::loadOrCreateKeyFile(key_path, sealed::kStoreKeyBytes,
                                                 sealed::generateStoreKey, &key_created);
  if (!secrets_key) {
    spdlog::error("secrets key file: {}", secrets_key.status().message());
    return 1;
  }
  if (key_created) spdlog::info("created the secrets key file {}", key_path);
  AnchorOptions core = options.core;
  core.secrets_key = *secrets_key;
  spdlog::info("update windows of staged rollouts are read in time zone {}{}",
               core.site_time_zone.name(),
               core.site_time_zone.processLocal() ? " (the process's own)" : "");
  SystemClock clock;
  ThreadPoolExecutor pool("anchor-core", 2);
  auto strand = Strand::create(pool);
  auto link = makePahoLink(anchorMqttOptions(options, clock));
  MosquittoAdminOptions admin_options;
  admin_options.agent_broker_url = options.agent_broker_url;
  admin_options.agent_ca_file = options.agent_tls_ca;
  auto admin = makeMosquittoBrokerAdmin(*link, *strand, clock, admin_options);
  auto anchor = std::make_unique<Anchor>(core, **store, *link, *admin, strand, clock);
  if (Status s = anchor->start(); !s.isOk()) {
    spdlog::error("cannot start: {}", s.message());
    return 1;
  }
  spdlog::info("connecting to {} as {}", options.connection.broker_url,
               options.connection.username);
  while (!stop) {
    Status s = link->connect();
    if (s.isOk()) break;
    if (s.code() == Code::kPermissionDenied || s.code() == Code::kInvalidArgument) {
      spdlog::error("the broker refused the anchor: {}", s.message());
      return 1;
    }
    spdlog::warn("broker {}: {}; retrying", options.connection.broker_url, s.message());
    (void)sdNotifyStatus("broker " + options.connection.broker_url + ": " + s.message() +
                         "; retrying");
    waitOrStop(stop, std::chrono::seconds(1));
  }
  // systemd (Type=notify): serving once the store is open and the broker accepted us.
  if (!stop) (void)sdNotifyReady("serving on " + options.connection.broker_url);
  auto watchdog = sdWatchdogInterval();
  while (!stop) {
    waitOrStop(stop, std::chrono::milliseconds(200));
    if (watchdog.count() > 0) (void)sdNotifyWatchdog();
  }
  (void)sdNotifyStopping("shutting down");
  spdlog::info("shutting down");
  std::promise<void> done;
  auto future = done.get_future();
  strand->post([&] {
    anchor->stop();
    done.set_value();
  });
  if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    spdlog::warn("the core did not stop within 5 s");
  }
  link->disconnect();
  pool.shutdown();
  anchor.reset();
  return 0;
}

int backupAnchor(const AnchorSettings& options) {
  namespace fs = std::filesystem;
  fs::path dir(options.command_dir);
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    spdlog::error("backup: {} exists; choose a new directory", dir.string());
    return 1;
  }
  fs::create_directories(dir, ec);
  // Online and consistent: a secondary-instance copy, made while pharos-anchor runs (or not),
  // which never writes into the data dir (store_backup.h).
  auto copied = backupLiveStore(options.data_dir, (dir / "store").string());
  if (!copied) {
    spdlog::error("backup: {}", copied.status().message());
    return 1;
  }
  spdlog::info("backup: {} keys ({} bytes) copied from {}", copied->keys, copied->bytes,
               options.data_dir);
  if (!options.dynsec_file.empty()) {
    fs::copy_file(options.dynsec_file, dir / "dynamic-security.json", ec);
    if (ec) {
      spdlog::error("backup: copying {}: {}", options.dynsec_file, ec.message());
      return 1;
    }
  }
  // Secrets in the store are ciphertext under the secrets key; the key goes along only when
  // asked, so a backup left on a share does not hand the secrets out with it.
  std::string key_path = secretsKeyPath(options);
  if (options.include_secrets_key) {
    auto key = sealed::loadKeyFile(key_path, sealed::kStoreKeyBytes);
    Status copied_key =
        key ? sealed::createKeyFile((dir / "secrets.key").string(), *key) : key.status();
    if (!copied_key.isOk()) {
      spdlog::error("backup: secrets key: {}", copied_key.message());
      return 1;
    }
    spdlog::info(
        "backup includes the secrets key ({}): whoever holds this backup can read "
        "its secrets",
        key_path);
  } else {
    spdlog::info(
        "backup does not include the secrets key: its secrets are readable only with "
        "{} (keep a copy apart, or back up with --include-secrets-key)",
        key_path);
  }
  spdlog::info("backup written to {}", dir.string());
  return 0;
}

int restoreAnchor(const AnchorSettings& options) {
  namespace fs = std::filesystem;
  fs::path dir(options.command_dir);
  if (Status s = restoreCheckpoint((dir / "store").string(), options.data_dir); !s.isOk()) {
    spdlog::error("restore: {}", s.message());
    return 1;
  }
  auto store = openRocksDbStore(options.data_dir);
  if (!store) {
    spdlog::error("restore: {}", store.status().message());
    return 1;
  }
  // A restored store is a new epoch: agents apply its documents whatever their generation.
  std::string epoch = newEpoch();
  if (Status s = (*store)->put(keys::kEpoch, epoch, true); !s.isOk()) {
    spdlog::error("restore: {}", s.message());
    return 1;
  }
  std::error_code ec;
  if (!options.dynsec_file.empty() && fs::exists(dir / "dynamic-security.json", ec)) {
    fs::copy_file(dir / "dynamic-security.json", options.dynsec_file,
                  fs::copy_options::overwrite_existing, ec);
    if (ec) {
      spdlog::error("restore: writing {}: {}", options.dynsec_file, ec.message());
      return 1;
    }
    spdlog::info("restored {} (restart the broker to load it)", options.dynsec_file);
  }
  std::string key_path = secretsKeyPath(options);
  if (fs::exists(dir / "secrets.key", ec) && !fs::exists(key_path, ec)) {
    auto key = sealed::loadKeyFile((dir / "secrets.key").string(), sealed::kStoreKeyBytes);
    Status s = key ? sealed::createKeyFile(key_path, *key) : key.status();
    if (!s.isOk()) {
      spdlog::error("restore: secrets key: {}", s.message());
      return 1;
    }
    spdlog::info("restored the secrets key into {}", key_path);
  } else if (!fs::exists(key_path, ec)) {
    spdlog::warn(
        "restore: no secrets key in the backup and none at {}: put the key this "
        "store was written with there before starting the anchor",
        key_path);
  }
  spdlog::info("store restored into {} with the new epoch {}", options.data_dir, epoch);
  return 0;
}

}  // namespace pharos::anchor
