import { createHash } from 'node:crypto';
import { nix32Decode, nix32Encode, parseNixHash, toHex, toSri, toNix32 } from '../../src/nix/hash.js';

describe('Nix hash spellings', () => {
  const bytes = createHash('sha256').update('nix-actions').digest();

  it('round-trips nix base-32', () => {
    const s = nix32Encode(bytes);
    expect(s).toHaveLength(52);
    expect(nix32Decode(s).equals(bytes)).toBe(true);
  });

  it('reads every spelling to the same bytes', () => {
    const spellings = [
      `sha256:${nix32Encode(bytes)}`,
      `sha256-${bytes.toString('base64')}`,
      `sha256:${bytes.toString('hex')}`,
      { algorithm: 'sha256', hash: bytes.toString('hex') },
    ];
    for (const s of spellings) expect(toHex(parseNixHash(s))).toBe(bytes.toString('hex'));
    expect(toSri(parseNixHash(spellings[0]))).toBe(spellings[1]);
    expect(toNix32(parseNixHash(spellings[1]))).toBe(spellings[0]);
  });

  it('rejects malformed hashes clearly', () => {
    expect(() => parseNixHash('sha256:xyz')).toThrow(/wrong length|invalid/);
    expect(() => parseNixHash('not a hash!')).toThrow(/is not a hash/);
    expect(() => nix32Decode('eeee')).toThrow(/invalid character 'e'/);
  });
});
