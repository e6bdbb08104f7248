// What `import mqtt from 'mqtt'` resolves to inside the bundle (esbuild --alias): the library
// that dist/mqtt.js put on window.pharosMqtt. Used only once js/bundle_entry.js has waited for
// that script (app.js main's `ready`). The unbundled page imports the library itself.
export default {
  connect: (...args) => window.pharosMqtt.connect(...args),
};
