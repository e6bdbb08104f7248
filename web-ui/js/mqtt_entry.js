// Entry point of dist/mqtt.js (`npm run build`): the MQTT library alone, as a classic script
// that sets window.pharosMqtt. The bundle of the UI (dist/pharos.js) does not hold it, so the
// sign-in form is on screen before the browser has parsed the library's 350 KB; the page
// loads this script right after that first paint (js/bundle_entry.js). Main thread only.
import mqtt from 'mqtt';

window.pharosMqtt = mqtt;
