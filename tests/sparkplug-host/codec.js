// The Eclipse Tahu Sparkplug B payload codec (npm sparkplug-payload, pinned in package.json)
// as a line filter for the integration tests: every input line is a JSON request, every output
// line its answer, in order.
//   {"op": "decode", "hex": "<payload bytes>"}  -> {"ok": true, "payload": {...}}
//   {"op": "encode", "payload": {...}}          -> {"ok": true, "hex": "<payload bytes>"}
// A payload the codec cannot handle answers {"ok": false, "error": "..."}. 64-bit integers
// (Long) come out as JSON numbers.
'use strict';
const readline = require('readline');
const Long = require('long');
const sparkplug = require('sparkplug-payload').get('spBv1.0');

function plain(key, value) {
  if (value && typeof value === 'object' && 'low' in value && 'high' in value &&
      'unsigned' in value) {
    return Number(Long.fromBits(value.low, value.high, value.unsigned).toString());
  }
  return value;
}

function answer(line) {
  const request = JSON.parse(line);
  if (request.op === 'decode') {
    const payload = sparkplug.decodePayload(Buffer.from(request.hex, 'hex'));
    return {ok: true, payload};
  }
  if (request.op === 'encode') {
    return {ok: true, hex: Buffer.from(sparkplug.encodePayload(request.payload)).toString('hex')};
  }
  return {ok: false, error: `unknown op ${request.op}`};
}

const lines = readline.createInterface({input: process.stdin});
lines.on('line', (line) => {
  let out;
  try {
    out = answer(line);
  } catch (e) {
    out = {ok: false, error: String(e && e.message || e)};
  }
  process.stdout.write(JSON.stringify(out, plain) + '\n');
});
