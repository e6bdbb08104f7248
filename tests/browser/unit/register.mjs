// Registers resolve_pharos.mjs (see there).
import { register } from 'node:module';

register('./resolve_pharos.mjs', import.meta.url);
