// What the web UI benchmarks share: a free loopback port, and a Mosquitto serving a web-ui
// directory (anonymous TCP and WebSocket listeners on free loopback ports, http_dir = the
// directory), stopped by the caller (proc.kill(), then remove `work`).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// {proc, url (the page), mqttUrl (TCP), work}. `extra`: more mosquitto.conf lines.
export async function startBroker(dir, extra = []) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pharos-webui-bench-'));
  fs.chmodSync(work, 0o755);
  const [tcp, ws] = [await freePort(), await freePort()];
  const conf = path.join(work, 'mosquitto.conf');
  fs.writeFileSync(conf, [
    'per_listener_settings false', 'allow_anonymous true', 'persistence false', ...extra,
    `listener ${tcp} 127.0.0.1`,
    `listener ${ws} 127.0.0.1`, 'socket_domain ipv4', 'protocol websockets', `http_dir ${dir}`, ''].join('\n'));
  const proc = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  for (let i = 0; i < 50; i += 1) {
    const open = await new Promise((resolve) => {
      const s = net.connect(ws, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (open) return { proc, url: `http://127.0.0.1:${ws}/`, mqttUrl: `mqtt://127.0.0.1:${tcp}`, work };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  throw new Error(`mosquitto did not open port ${ws} for ${dir}`);
}
