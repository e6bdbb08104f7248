// Module loader of the Pharos web UI (a classic script: the one file index.html loads).
//
// The UI is plain ES modules that import each other by bare specifiers ("pharos/store.js")
// and the two npm libraries by name ("mqtt", "uplot"). An import map resolves them.
// Mosquitto's http_dir server sends no Content-Type header, and browsers refuse to run a
// module script without a JavaScript MIME type. So when the server omits it, this loader
// fetches every module (following their import statements), wraps each in a Blob of type
// text/javascript and maps the specifier to the blob's URL. Behind a server that sends
// proper types (a reverse proxy, `python3 -m http.server` during development) the import
// map points at the files themselves. Single-threaded (the page's main thread).
(function boot() {
  'use strict';
  const kVendor = {
    mqtt: 'node_modules/mqtt/dist/mqtt.esm.js',
    uplot: 'node_modules/uplot/dist/uPlot.esm.js',
  };
  const kEntry = 'pharos/app.js';
  const kImportPattern = /\b(?:import|from)\s*['"]((?:pharos\/)[^'"]+)['"]/g;
  const base = new URL('.', document.baseURI);

  function fileOf(specifier) {
    if (kVendor[specifier]) return new URL(kVendor[specifier], base).href;
    return new URL('js/' + specifier.slice('pharos/'.length), base).href;
  }

  function fail(message) {
    const box = document.getElementById('boot-error');
    if (box) {
      box.textContent = 'The Pharos UI could not load: ' + message;
      box.hidden = false;
    }
    console.error('pharos boot:', message);
  }

  // Retries network failures (a browser aborts requests in flight when the host's network
  // interfaces change, e.g. a container engine adding a bridge); HTTP errors are final.
  async function fetchText(url, attempts = 4) {
    for (let i = 1; ; i += 1) {
      let response;
      try {
        response = await fetch(url, { cache: 'no-cache' });
      } catch (e) {
        if (i >= attempts) throw e;
        await new Promise((resolve) => setTimeout(resolve, 250 * i));
        continue;
      }
      if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
      return response.text();
    }
  }

  async function serverSendsModuleTypes() {
    try {
      const response = await fetch(fileOf(kEntry), { method: 'HEAD', cache: 'no-cache' });
      return /javascript/i.test(response.headers.get('content-type') || '');
    } catch (e) {
      return false;
    }
  }

  // Every module reachable from the entry, as blob URLs.
  async function blobMap() {
    const imports = {};
    const queue = [kEntry, ...Object.keys(kVendor)];
    const seen = new Set(queue);
    while (queue.length > 0) {
      const batch = queue.splice(0, queue.length);
      const texts = await Promise.all(batch.map((s) => fetchText(fileOf(s))));
      batch.forEach((specifier, i) => {
        const text = texts[i];
        if (specifier.startsWith('pharos/')) {
          for (const match of text.matchAll(kImportPattern)) {
            if (!seen.has(match[1])) {
              seen.add(match[1]);
              queue.push(match[1]);
            }
          }
        }
        const blob = new Blob([text, '\n//# sourceURL=' + fileOf(specifier)], {
          type: 'text/javascript',
        });
        imports[specifier] = URL.createObjectURL(blob);
      });
    }
    return imports;
  }

  function urlMap() {
    const imports = { 'pharos/': new URL('js/', base).href };
    for (const name of Object.keys(kVendor)) imports[name] = fileOf(name);
    return imports;
  }

  async function start() {
    const imports = (await serverSendsModuleTypes()) ? urlMap() : await blobMap();
    const map = document.createElement('script');
    map.type = 'importmap';
    map.textContent = JSON.stringify({ imports });
    document.head.appendChild(map);
    const app = await import(kEntry);
    await app.main(document.getElementById('app'));
  }

  start().catch((e) => fail(e && e.message ? e.message : String(e)));
})();
