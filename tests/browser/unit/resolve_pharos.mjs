// Node module hooks for the web UI's unit tests: resolves the UI's bare "pharos/..."
// specifiers to web-ui/js/ as the page's import map does. Loaded with
// `node --import ./unit/register.mjs --test unit/`.
const root = new URL('../../../web-ui/js/', import.meta.url);

export async function resolve(specifier, context, nextResolve) {
  if (specifier.startsWith('pharos/')) {
    return { url: new URL(specifier.slice('pharos/'.length), root).href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
