import { parseChallenge } from '../../src/oci/auth.js';
import { checkRepository, isLoopback, Registry, resolveLocation } from '../../src/oci/registry.js';
import { registryCredentials } from '../../src/publish/publish.js';
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

describe('upload Locations and redirects', () => {
  it('resolves relative and same-scheme Locations, on this host or another', () => {
    expect(resolveLocation('https://ghcr.io', '/v2/o/r/blobs/uploads/abc?_state=x', 'r').href).toBe('https://ghcr.io/v2/o/r/blobs/uploads/abc?_state=x');
    expect(resolveLocation('https://ghcr.io', 'https://storage.example.com/up/1', 'r').href).toBe('https://storage.example.com/up/1');
    expect(resolveLocation('http://127.0.0.1:5000', 'http://localhost:6000/x', 'r').host).toBe('localhost:6000');
  });

  it.each([
    ['https://ghcr.io', 'http://ghcr.io/v2/o/r/blobs/uploads/abc', /redirected from HTTPS to plain HTTP \(http:\/\/ghcr\.io\)/],
    ['https://ghcr.io', 'http://127.0.0.1/up', /redirected from HTTPS to plain HTTP/],
    ['http://127.0.0.1:5000', 'http://storage.example.com/up', /plain-HTTP Location on storage\.example\.com, which is not loopback/],
    ['https://ghcr.io', 'ftp://ghcr.io/up', /scheme ftp:/],
    ['https://ghcr.io', 'http://[::1', /unusable Location/],
  ])('refuses %s -> %s', (base, loc, msg) => {
    expect(() => resolveLocation(base, loc, 'the registry')).toThrow(UserError);
    expect(() => resolveLocation(base, loc, 'the registry')).toThrow(msg);
  });
});

it('masks the basic credentials header as soon as the client is made', () => {
  const secrets: string[] = [];
  new Registry({ host: 'registry.example.com', username: 'ci', password: 'pa:ss', log: silentLog, onSecret: (s) => secrets.push(s) });
  expect(secrets).toEqual([Buffer.from('ci:pa:ss').toString('base64')]);
  const none: string[] = [];
  new Registry({ host: 'registry.example.com', log: silentLog, onSecret: (s) => none.push(s) });
  expect(none).toEqual([]);
});

describe('registry credentials', () => {
  const dotcom = { actor: 'octocat', serverUrl: 'https://github.com' };
  const ghes = { actor: 'octocat', serverUrl: 'https://github.acme.example' };
  it('sends the job token to ghcr.io (and the GHES containers host) only', () => {
    expect(registryCredentials('ghcr.io', { githubToken: 'job' }, dotcom)).toEqual({ username: 'octocat', password: 'job' });
    expect(registryCredentials('containers.github.acme.example', { githubToken: 'job' }, ghes)).toEqual({ username: 'octocat', password: 'job' });
    expect(registryCredentials('ghcr.io', { githubToken: 'job' }, ghes)).toEqual({ username: 'octocat', password: 'job' });
    for (const host of ['registry.example.com', '127.0.0.1:5000', 'ghcr.io.evil.com', 'containers.github.com', 'containers.github.acme.example.evil']) {
      expect(registryCredentials(host, { githubToken: 'job' }, host.startsWith('containers.github.acme') ? ghes : dotcom)).toEqual({});
    }
    expect(registryCredentials('containers.github.acme.example', { githubToken: 'job' }, dotcom)).toEqual({});
  });
  it('sends given credentials as they are, with the actor as default user', () => {
    expect(registryCredentials('registry.example.com', { password: 'pw', githubToken: 'job' }, dotcom)).toEqual({ username: 'octocat', password: 'pw' });
    expect(registryCredentials('ghcr.io', { username: 'bot', password: 'pat', githubToken: 'job' }, dotcom)).toEqual({ username: 'bot', password: 'pat' });
    expect(registryCredentials('registry.example.com', { username: 'anon', githubToken: 'job' }, dotcom)).toEqual({ username: 'anon' });
  });
});
