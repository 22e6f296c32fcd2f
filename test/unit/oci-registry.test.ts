import { parseChallenge } from '../../src/oci/auth.js';
import { checkRepository, isLoopback, Registry } from '../../src/oci/registry.js';
import { parseChildRef } from '../../src/oci/push.js';
import { layerMediaType, MEDIA } from '../../src/oci/media.js';
import { silentLog } from '../../src/log.js';
import { UserError } from '../../src/errors.js';

describe('WWW-Authenticate challenges', () => {
  it('parses bearer challenges as ghcr.io and distribution send them', () => {
    expect(parseChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/r:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:o/r:pull' },
    });
    expect(parseChallenge('Basic realm="test \\"realm\\""')).toEqual({ scheme: 'basic', params: { realm: 'test "realm"' } });
    expect(parseChallenge('Negotiate abc')).toBeUndefined();
    expect(parseChallenge(undefined)).toBeUndefined();
  });
});

describe('registry hosts and plain HTTP', () => {
  it.each(['127.0.0.1:5000', '127.1.2.3', 'localhost:80', '[::1]:5000'])('allows plain HTTP to loopback %s', (host) => {
    expect(isLoopback(host)).toBe(true);
    expect(new Registry({ host, plainHttp: true, log: silentLog }).base).toBe(`http://${host}`);
  });

  it.each(['ghcr.io', '10.0.0.1:5000', '127.0.0.1.evil.com', 'localhost.example.com'])('refuses plain HTTP to %s', (host) => {
    expect(() => new Registry({ host, plainHttp: true, log: silentLog })).toThrow(/plain HTTP is only allowed for a loopback registry/);
    expect(new Registry({ host, log: silentLog }).base).toBe(`https://${host}`);
  });

  it.each(['https://ghcr.io', 'ghcr.io/path', '-x', 'a b', 'ghcr.io\n::error::x'])('refuses host %j', (host) => {
    expect(() => new Registry({ host, log: silentLog })).toThrow(/is not a registry host/);
  });

  it('checks repository names', () => {
    expect(checkRepository('vig-os/devcontainer')).toBe('vig-os/devcontainer');
    for (const bad of ['Vig-OS/x', '/x', 'x/', 'a//b', '-x', 'a b', 'x;rm', '..', 'a\nb']) {
      expect(() => checkRepository(bad)).toThrow(UserError);
    }
  });
});

describe('index children', () => {
  const d = `sha256:${'a'.repeat(64)}`;
  it('reads digests and refs on the same registry', () => {
    expect(parseChildRef(d, 'ghcr.io', 'o/r')).toEqual({ repository: 'o/r', reference: d });
    expect(parseChildRef(`ghcr.io/o/r-arm@${d}`, 'ghcr.io', 'o/r')).toEqual({ repository: 'o/r-arm', reference: d });
    expect(parseChildRef(`o/r@${d}`, 'ghcr.io', 'o/r')).toEqual({ repository: 'o/r', reference: d });
    expect(parseChildRef('127.0.0.1:5000/o/r:amd64', '127.0.0.1:5000', 'o/r')).toEqual({ repository: 'o/r', reference: 'amd64' });
  });
  it('refuses other registries and malformed refs', () => {
    expect(() => parseChildRef(`docker.io/o/r@${d}`, 'ghcr.io', 'o/r')).toThrow(/is on docker.io, not on ghcr.io/);
    expect(() => parseChildRef('o/r@sha256:abc', 'ghcr.io', 'o/r')).toThrow(/malformed digest/);
    expect(() => parseChildRef('justaword', 'ghcr.io', 'o/r')).toThrow(/neither a digest nor a reference/);
  });
});

it('names layer media types from their first bytes', () => {
  expect(layerMediaType(Buffer.from([0x1f, 0x8b, 8]))).toBe(MEDIA.ociLayerGzip);
  expect(layerMediaType(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe(MEDIA.ociLayerZstd);
  expect(layerMediaType(Buffer.from('file.txt'))).toBe(MEDIA.ociLayerTar);
});
