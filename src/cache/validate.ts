import { InputError } from '../errors.js';

/**
 * Everything here ends up in nix.conf, a netrc file or a store URL, where a newline
 * or a space would inject a setting or split a list. So each value is checked
 * against the shape it must have, and anything else is an InputError naming the input.
 */

const CACHE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/** A Cachix cache name: it becomes a host name (`<name>.cachix.org`), so letters, digits, `-`, `_`. */
export function checkCacheName(input: string, name: string): string {
  if (!CACHE_NAME.test(name)) {
    throw new InputError(input, `'${clip(name)}' is not a Cachix cache name (letters, digits, '-' and '_', not starting with '-')`);
  }
  return name;
}

const STORE_SCHEMES = ['http:', 'https:', 's3:', 'file:', 'ssh:', 'ssh-ng:', 'gs:'];

/** A Nix store URL (binary cache). No whitespace: nix.conf lists are whitespace-separated. */
export function checkStoreUrl(input: string, url: string, schemes: readonly string[] = STORE_SCHEMES): string {
  if (/\s/.test(url) || url.startsWith('-')) {
    throw new InputError(input, `'${clip(url)}' is not a store URL (no spaces or newlines, must not start with '-')`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(input, `'${clip(url)}' is not a URL; give e.g. https://cache.example.org or file:///path`);
  }
  if (!schemes.includes(parsed.protocol)) {
    throw new InputError(input, `'${clip(url)}' has scheme '${parsed.protocol}', expected one of ${schemes.join(' ')}`);
  }
  return url;
}

const KEY_NAME = '[A-Za-z0-9._+-]+';
const PUBLIC_KEY = new RegExp(`^${KEY_NAME}:([A-Za-z0-9+/]+={0,2})$`);

/** `name:base64(32-byte ed25519 public key)`, as nix-store --generate-binary-cache-key writes it. */
export function checkPublicKey(input: string, key: string): string {
  const m = PUBLIC_KEY.exec(key);
  if (!m || Buffer.from(m[1], 'base64').length !== 32) {
    throw new InputError(
      input,
      `'${clip(key)}' is not a Nix public key; expected <name>:<base64 of 32 bytes>, e.g. what nix-store --generate-binary-cache-key writes to its public key file`,
    );
  }
  return key;
}

/**
 * A Nix secret key, `name:base64(64 bytes)`. The value is a secret: the error never
 * quotes it.
 */
export function isNixSecretKey(key: string): boolean {
  const m = new RegExp(`^${KEY_NAME}:([A-Za-z0-9+/]+={0,2})$`).exec(key.trim());
  return Boolean(m && Buffer.from(m[1], 'base64').length === 64);
}

/** push-filter: a JavaScript regular expression matched against each store path. */
export function checkFilter(input: string, source: string): RegExp | undefined {
  if (!source) return undefined;
  try {
    return new RegExp(source);
  } catch (e) {
    throw new InputError(input, `is not a valid regular expression: ${(e as Error).message}`);
  }
}

function clip(s: string): string {
  const one = s.replace(/[\r\n]+/g, '⏎');
  return one.length > 80 ? `${one.slice(0, 77)}...` : one;
}
