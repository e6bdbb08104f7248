// Keeps the user signed in across reloads of one browser tab, without the password in
// plain text anywhere: the credentials are encrypted (AES-GCM) with a non-extractable
// CryptoKey that lives in IndexedDB, and only the ciphertext goes to sessionStorage, which
// the browser drops when the tab closes. Sign-out deletes both. docs/web-ui.md "Session"
// says what this protects against and what it does not.
// Needs a secure context (https, or http on localhost / 127.0.0.1) for WebCrypto; elsewhere
// save() does nothing and a reload asks for the password again. Main thread only.

const kStorageKey = 'pharos.session';
const kDb = 'pharos-session';
const kStore = 'keys';

function available() {
  return typeof window !== 'undefined' && window.isSecureContext && window.crypto && crypto.subtle &&
    typeof indexedDB !== 'undefined' && typeof sessionStorage !== 'undefined';
}

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(kDb, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(kStore);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function withStore(mode, fn) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(kStore, mode);
      const req = fn(tx.objectStore(kStore));
      tx.oncomplete = () => resolve(req ? req.result : undefined);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

const toBase64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

// Stores {url, username, password} for this tab. Failures are ignored (no persistence).
export async function saveSession(credentials) {
  if (!available()) return;
  try {
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const id = toBase64(crypto.getRandomValues(new Uint8Array(12)));
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = new TextEncoder().encode(JSON.stringify(credentials));
    const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, data);
    await withStore('readwrite', (s) => s.put(key, id));
    sessionStorage.setItem(kStorageKey, JSON.stringify({ id, iv: toBase64(iv), data: toBase64(sealed) }));
  } catch (e) {
    console.warn('pharos: session not kept', e);
  }
}

// The credentials saved by this tab, or null.
export async function loadSession() {
  if (!available()) return null;
  try {
    const record = JSON.parse(sessionStorage.getItem(kStorageKey) || 'null');
    if (!record) return null;
    const key = await withStore('readonly', (s) => s.get(record.id));
    if (!key) return null;
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromBase64(record.iv) }, key, fromBase64(record.data));
    return JSON.parse(new TextDecoder().decode(plain));
  } catch (e) {
    return null;
  }
}

// Forgets this tab's session (sign-out, or saved credentials the broker refused).
export async function clearSession() {
  if (!available()) return;
  try {
    const record = JSON.parse(sessionStorage.getItem(kStorageKey) || 'null');
    sessionStorage.removeItem(kStorageKey);
    if (record) await withStore('readwrite', (s) => s.delete(record.id));
  } catch (e) {
    sessionStorage.removeItem(kStorageKey);
  }
}
