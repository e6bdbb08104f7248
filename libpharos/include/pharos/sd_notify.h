// The systemd notification protocol (sd_notify(3)) without libsystemd: one datagram of
// newline-separated `KEY=value` assignments sent to the socket named by $NOTIFY_SOCKET (a
// path, or an abstract socket when it starts with '@'). Every function is a no-op that
// returns ok when NOTIFY_SOCKET is unset, so the binaries behave the same outside systemd.
// Units use Type=notify: READY=1 once the process is connected and serving, STOPPING=1 on
// shutdown, STATUS= for `systemctl status`, WATCHDOG=1 when the unit sets WatchdogSec=.
//
// Threading: every function may be called from any thread (each send opens its own socket;
// the environment is only read). Do not modify the environment concurrently.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "pharos/status.h"

namespace pharos {

// Sends `state` (for example "READY=1\nSTATUS=connected") to $NOTIFY_SOCKET. Ok when the
// variable is unset; unavailable when the socket cannot be reached; invalid_argument for a
// malformed socket address.
Status sdNotify(std::string_view state);

// Whether $NOTIFY_SOCKET is set (the process runs under a Type=notify unit).
bool sdNotifyEnabled();

// READY=1, with an optional STATUS= line.
Status sdNotifyReady(std::string_view status = {});
// STOPPING=1, with an optional STATUS= line.
Status sdNotifyStopping(std::string_view status = {});
// STATUS=<text> (newlines in the text are replaced with spaces).
Status sdNotifyStatus(std::string_view status);
// WATCHDOG=1.
Status sdNotifyWatchdog();
// RELOADING=1 (before re-reading configuration), then READY=1 again when done.
Status sdNotifyReloading(std::string_view status = {});

// How often to send WATCHDOG=1: half of $WATCHDOG_USEC when it is set and $WATCHDOG_PID is
// unset or this process; zero (no watchdog) otherwise.
std::chrono::microseconds sdWatchdogInterval();

}  // namespace pharos
