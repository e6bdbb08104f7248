// Entry point of the bundled UI (dist/pharos.js, built by `npm run build` with esbuild):
// the same modules js/boot.js loads one by one, in one classic script, so the page costs
// the broker's HTTP server four requests instead of about thirty. Main thread only.
import { main } from 'pharos/app.js';

main(document.getElementById('app')).catch((e) => {
  const box = document.getElementById('boot-error');
  if (box) {
    box.textContent = 'The Pharos UI could not load: ' + (e && e.message ? e.message : String(e));
    box.hidden = false;
  }
  console.error('pharos:', e);
});
