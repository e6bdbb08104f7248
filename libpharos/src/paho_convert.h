// Conversions between Pharos' MQTT types and Paho's (paho_convert.cpp): broker URL
// normalisation, CONNACK refusal codes, messages with their MQTT 5 properties. Pure
// functions, no threads; internal to libpharos (only paho_link.cpp uses them).
#pragma once

#include <mqtt/message.h>

#include <string>

#include "pharos/mqtt_link.h"
#include "pharos/status.h"

namespace pharos::paho {

// Accepts tcp://, ssl://, ws://, wss:// and the mqtt:// / mqtts:// aliases.
Result<std::string> normalizeUrl(const std::string& url);
bool isTlsUrl(const std::string& url);
// True when a refused CONNECT means bad credentials or identity (MQTT 5 or 3.1.1 codes).
bool isCredentialRefusal(int reason_code, int return_code);
MqttMessage fromPaho(const mqtt::const_message_ptr& in);
mqtt::message_ptr toPaho(const MqttMessage& in);

}  // namespace pharos::paho
