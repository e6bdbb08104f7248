// Conversions between Pharos' MQTT types and Paho's (paho_convert.h). Pure functions.
#include "paho_convert.h"

#include <mqtt/async_client.h>

namespace pharos::paho {

Result<std::string> normalizeUrl(const std::string& url) {
  auto sep = url.find("://");
  if (sep == std::string::npos || sep + 3 >= url.size()) {
    return Status::invalidArgument("MQTT url '" + url + "': expected scheme://host:port");
  }
  std::string scheme = url.substr(0, sep);
  std::string rest = url.substr(sep);
  if (scheme == "mqtt") scheme = "tcp";
  if (scheme == "mqtts") scheme = "ssl";
  if (scheme != "tcp" && scheme != "ssl" && scheme != "ws" && scheme != "wss") {
    return Status::invalidArgument("MQTT url '" + url +
                                   "': scheme must be tcp, ssl, mqtt, mqtts, ws or wss");
  }
  return scheme + rest;
}

bool isTlsUrl(const std::string& url) {
  return url.rfind("ssl://", 0) == 0 || url.rfind("wss://", 0) == 0;
}

bool isCredentialRefusal(int reason_code, int return_code) {
  // Paho C reports an MQTT 5 CONNACK refusal as the return code (e.g. 135 = 0x87), and
  // sometimes as the reason code.
  for (int code : {reason_code, return_code}) {
    switch (code) {
      case mqtt::ReasonCode::CLIENT_IDENTIFIER_NOT_VALID:  // 0x85
      case mqtt::ReasonCode::BAD_USER_NAME_OR_PASSWORD:    // 0x86
      case mqtt::ReasonCode::NOT_AUTHORIZED:               // 0x87
      case mqtt::ReasonCode::BANNED:                       // 0x8A
      case mqtt::ReasonCode::BAD_AUTHENTICATION_METHOD:    // 0x8C
        return true;
      default:
        break;
    }
  }
  // MQTT 3.1.1 CONNACK codes: 2 identifier rejected, 4 bad user name or password, 5 not
  // authorized.
  return return_code == 2 || return_code == 4 || return_code == 5;
}

MqttMessage fromPaho(const mqtt::const_message_ptr& in) {
  MqttMessage out;
  out.topic = in->get_topic();
  out.payload = in->to_string();
  out.qos = in->get_qos();
  out.retained = in->is_retained();
  const mqtt::properties& props = in->get_properties();
  if (props.contains(mqtt::property::RESPONSE_TOPIC)) {
    out.response_topic = mqtt::get<std::string>(props, mqtt::property::RESPONSE_TOPIC);
  }
  if (props.contains(mqtt::property::CORRELATION_DATA)) {
    out.correlation_data = mqtt::get<std::string>(props, mqtt::property::CORRELATION_DATA);
  }
  return out;
}

mqtt::message_ptr toPaho(const MqttMessage& in) {
  auto out = mqtt::message::create(in.topic, in.payload, in.qos, in.retained);
  mqtt::properties props;
  if (!in.response_topic.empty()) {
    props.add(mqtt::property(mqtt::property::RESPONSE_TOPIC, in.response_topic));
  }
  if (!in.correlation_data.empty()) {
    props.add(mqtt::property(mqtt::property::CORRELATION_DATA, in.correlation_data));
  }
  if (!props.empty()) out->set_properties(std::move(props));
  return out;
}

}  // namespace pharos::paho
