// Entry point of the bundled UI (dist/pharos.js, built by `npm run build` with esbuild):
// the same modules js/boot.js loads one by one, in one classic script, so the page costs
// the broker's HTTP server a few requests instead of about fifty. The MQTT library is a
// second script (dist/mqtt.js, preloaded by index.html): it is run after the sign-in form is
// on screen, and signing in waits for it. Main thread only.
import { main } from 'pharos/app.js';

function fail(e) {
  const box = document.getElementById('boot-error');
  if (box) {
    box.textContent = 'The Pharos UI could not load: ' + (e && e.message ? e.message : String(e));
    box.hidden = false;
  }
  console.error('pharos:', e);
}

// Runs dist/mqtt.js once the page has painted; resolves when window.pharosMqtt is set.
const mqttReady = new Promise((resolve, reject) => {
  const load = () => {
    if (window.pharosMqtt) {
      resolve();
      return;
    }
    const script = document.createElement('script');
    script.src = 'dist/mqtt.js';
    script.onload = () => (window.pharosMqtt ? resolve() : reject(new Error('dist/mqtt.js did not load')));
    script.onerror = () => reject(new Error('dist/mqtt.js is missing (npm run build)'));
    document.head.appendChild(script);
  };
  requestAnimationFrame(() => setTimeout(load, 0));
});
mqttReady.catch(fail);

main(document.getElementById('app'), { ready: mqttReady }).catch(fail);
