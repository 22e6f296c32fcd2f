import { UserError } from '../errors.js';

/**
 * Nix prints hashes as `sha256:<nix-base32>` (old CLI), SRI `sha256-<base64>`
 * (new CLI), or base16. SBOMs and manifests want one spelling: these convert.
 */
const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';

export function nix32Decode(s: string): Buffer {
  const len = Math.floor((s.length * 5) / 8);
  const out = Buffer.alloc(len);
  for (let n = 0; n < s.length; n++) {
    const c = s[s.length - n - 1];
    const digit = NIX32.indexOf(c);
    if (digit < 0) throw new UserError(`invalid character '${c}' in Nix base-32 hash '${s}'`);
    const b = n * 5;
    const i = b >> 3;
    const j = b & 7;
    out[i] |= (digit << j) & 0xff;
    if (i + 1 < len) out[i + 1] |= digit >> (8 - j);
    else if (digit >> (8 - j)) throw new UserError(`Nix base-32 hash '${s}' is too long`);
  }
  return out;
}

export function nix32Encode(bytes: Buffer): string {
  const len = Math.ceil((bytes.length * 8) / 5);
  let s = '';
  for (let n = len - 1; n >= 0; n--) {
    const b = n * 5;
    const i = b >> 3;
    const j = b & 7;
    const c = (bytes[i] >> j) | (i + 1 < bytes.length ? bytes[i + 1] << (8 - j) : 0);
    s += NIX32[c & 0x1f];
  }
  return s;
}

export interface ParsedHash {
  algo: string;
  bytes: Buffer;
}

const SIZES: Record<string, number> = { md5: 16, sha1: 20, sha256: 32, sha512: 64 };

/** Parses any spelling Nix uses, or the `{algorithm, hash}` object of newer JSON. */
export function parseNixHash(input: string | { algorithm?: string; algo?: string; hash?: string; format?: string }, defaultAlgo = 'sha256'): ParsedHash {
  if (typeof input === 'object' && input !== null) {
    const algo = input.algorithm ?? input.algo ?? defaultAlgo;
    const h = String(input.hash ?? '');
    return parseNixHash(h.includes(':') || h.includes('-') ? h : `${algo}:${h}`, algo);
  }
  const sri = /^(md5|sha1|sha256|sha512)-([A-Za-z0-9+/=]+)$/.exec(input);
  if (sri) return { algo: sri[1], bytes: Buffer.from(sri[2], 'base64') };
  const m = /^(?:(md5|sha1|sha256|sha512):)?(?:r:)?([0-9a-zA-Z+/=]+)$/.exec(input);
  if (!m) throw new UserError(`'${input}' is not a hash Nix would print`);
  const algo = m[1] ?? defaultAlgo;
  const body = m[2];
  const size = SIZES[algo];
  if (size === undefined) throw new UserError(`unknown hash algorithm in '${input}'`);
  if (body.length === size * 2 && /^[0-9a-f]+$/.test(body)) return { algo, bytes: Buffer.from(body, 'hex') };
  if (body.length === Math.ceil((size * 8) / 5)) return { algo, bytes: nix32Decode(body) };
  const b64 = Buffer.from(body, 'base64');
  if (b64.length === size) return { algo, bytes: b64 };
  throw new UserError(`hash '${input}' has the wrong length for ${algo}`);
}

export const toHex = (h: ParsedHash): string => h.bytes.toString('hex');
export const toSri = (h: ParsedHash): string => `${h.algo}-${h.bytes.toString('base64')}`;
export const toNix32 = (h: ParsedHash): string => `${h.algo}:${nix32Encode(h.bytes)}`;
