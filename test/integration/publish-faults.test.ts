import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { isUserError } from '../../src/errors.js';
import { recordingLog } from '../../src/log.js';
import { openImage, type SourceImage } from '../../src/oci/image.js';
import { pushImage } from '../../src/oci/push.js';
import { Registry, type RegistryOptions } from '../../src/oci/registry.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { buildOut, writeImageFlake } from '../helpers/images.js';
import { freePort, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireTool } from '../helpers/tools.js';

/**
 * A fault-injecting proxy between the client and a real docker-registry: 5xx
 * answers, connections reset part-way through an upload, slow responses. The
 * push must get through (retrying, resuming) or fail with a clear error and no
 * tag; skopeo, talking to the registry directly, checks what landed.
 */
const execFileAsync = promisify(execFile);
const skopeo = async (...args: string[]) => (await execFileAsync('skopeo', args, { encoding: 'utf8' })).stdout;

const flake = writeImageFlake();
let reg: TestRegistry;
let proxy: FaultProxy;
let archive: SourceImage;
let stream: SourceImage;
let n = 0;

beforeAll(async () => {
  requireTool('skopeo', 'skopeo');
  reg = await startRegistry();
  proxy = await startFaultProxy(reg.host);
  archive = await openImage(buildOut(flake.installable('docker-archive')));
  stream = await openImage(buildOut(flake.installable('stream')));
});
afterAll(async () => {
  await proxy?.stop();
  await reg?.stop();
});
beforeEach(() => proxy.clear());

function client(over: Partial<RegistryOptions> = {}) {
  const log = recordingLog();
  // Small thresholds so the 10 KiB test layers take the chunked, resumable path.
  return { log, reg: new Registry({ host: proxy.host, plainHttp: true, log, backoffMs: 10, monolithicMax: 4096, chunkSize: 4096, ...over }) };
}

const repo = () => `faults/r${++n}`;

async function checkedBySkopeo(repository: string, tag: string, digest: string) {
  const info = JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/${repository}:${tag}`));
  expect(info.Digest).toBe(digest);
  // A full pull verifies every blob's digest.
  await skopeo('copy', '--src-tls-verify=false', `docker://${reg.host}/${repository}:${tag}`, `oci:${reg.root}/pull-${n}`);
}

it('retries 500s, 503s and 429s on every kind of request', async () => {
  const { reg: c, log } = client();
  proxy.add({ method: 'HEAD', status: 503, times: 2 });
  proxy.add({ method: 'POST', path: /\/blobs\/uploads\/$/, status: 500, times: 2 });
  proxy.add({ method: 'PATCH', status: 429 });
  proxy.add({ method: 'PUT', path: /\/manifests\//, status: 502 });
  const r = repo();
  const o = await pushImage(c, archive, { repository: r, tags: ['v1'], log });
  expect(proxy.records.filter((x) => x.fault === 'status')).toHaveLength(6);
  expect(o.retries).toBeGreaterThanOrEqual(6);
  expect(log.lines.some((l) => /Retrying in .*HTTP 503/.test(l.message))).toBe(true);
  await checkedBySkopeo(r, 'v1', o.digest);
});

it.each([
  ['reset mid-body', { resetAfterBytes: 6000 }],
  ['answer lost after the registry stored it', { dropResponse: true }],
])('restarts an upload whose PATCH broke off (%s) on a fresh session (seekable source)', async (_label, fault) => {
  const { reg: c, log } = client();
  proxy.add({ method: 'PATCH', times: 2, ...fault });
  const r = repo();
  const o = await pushImage(c, archive, { repository: r, tags: ['v1'], log });
  expect(proxy.records.filter((x) => x.fault === ('dropResponse' in fault ? 'drop' : 'reset'))).toHaveLength(2);
  // distribution cancels a session whose PATCH broke off (its status GET says BLOB_UPLOAD_INVALID):
  // the only way on is a fresh session, re-read from the file.
  // (If the status check races the registry's clean-up, a resume attempt is refused first: still a restart.)
  expect(log.lines.filter((l) => /dropped the upload of sha256:.*; starting it again/.test(l.message)).length).toBeGreaterThanOrEqual(2);
  expect(proxy.records.filter((x) => x.method === 'POST' && /\/blobs\/uploads\/$/.test(x.path)).length).toBeGreaterThanOrEqual(7);
  await checkedBySkopeo(r, 'v1', o.digest);
});

it('resumes a stream script upload at the failed chunk, on the same session (one-shot source)', async () => {
  const { reg: c, log } = client();
  // The second PATCH (bytes 4096-8191 of the first layer) is answered 500 before the registry sees it.
  proxy.add({ method: 'PATCH', times: 1 });
  proxy.add({ method: 'PATCH', status: 500, times: 1 });
  const r = repo();
  const o = await pushImage(c, stream, { repository: r, tags: ['v1'], log });
  expect(log.lines.some((l) => /Resuming sha256:.* at byte 4096$/.test(l.message))).toBe(true);
  // One session per layer: nothing was restarted, and chunk one was sent once.
  expect(proxy.records.filter((x) => x.method === 'POST' && /\/blobs\/uploads\/$/.test(x.path))).toHaveLength(5);
  await checkedBySkopeo(r, 'v1', o.digest);
});

it('reads a stream script again when the registry drops a session mid-stream (one-shot source)', async () => {
  const { reg: c, log } = client();
  // Break the third PATCH (bytes 8192- of the first layer): the session and the bytes before it are gone.
  proxy.add({ method: 'PATCH', times: 2 });
  proxy.add({ method: 'PATCH', resetAfterBytes: 1000, times: 1 });
  const r = repo();
  const o = await pushImage(c, stream, { repository: r, tags: ['v1'], log });
  expect(proxy.records.filter((x) => x.fault === 'reset')).toHaveLength(1);
  expect(log.lines.some((l) => /was lost mid-stream and cannot resume; reading .* again \(pass 2 of 3\)/.test(l.message))).toBe(true);
  await checkedBySkopeo(r, 'v1', o.digest);
});

it('survives slow responses, and retries one that exceeds the timeout', async () => {
  const { reg: c, log } = client({ timeoutMs: 700 });
  proxy.add({ method: 'HEAD', delayMs: 200, times: Infinity });
  proxy.add({ method: 'PUT', path: /\/blobs\/uploads\//, delayMs: 1500, times: 1 });
  const r = repo();
  const o = await pushImage(c, archive, { repository: r, tags: ['v1'], log });
  expect(proxy.records.filter((x) => x.fault === 'delay').length).toBeGreaterThan(5);
  expect(log.lines.some((l) => /Retrying .*no response for 1 s/.test(l.message))).toBe(true);
  await checkedBySkopeo(r, 'v1', o.digest);
});

it('gives up with a clear error when uploads keep dropping, and tags nothing', async () => {
  const { reg: c, log } = client({ retries: 2 });
  proxy.add({ method: 'PATCH', resetAfterBytes: 1000, times: Infinity });
  proxy.add({ method: 'PUT', path: /\/blobs\/uploads\//, resetAfterBytes: 100, times: Infinity });
  const r = repo();
  const err = await pushImage(c, archive, { repository: r, tags: ['v1'], log }).catch((e) => e);
  expect(isUserError(err)).toBe(true);
  expect(err.oneLine).toMatch(/could not upload blob sha256:[0-9a-f]{64} to 127\.0\.0\.1:\d+ after 3 attempts/);
  expect(proxy.records.some((x) => x.method === 'PUT' && /\/manifests\//.test(x.path))).toBe(false);
  await expect(skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/${r}:v1`)).rejects.toThrow();
});

it('fails clearly when the manifest write keeps failing, leaving no tag', async () => {
  const { reg: c, log } = client({ retries: 2 });
  proxy.add({ method: 'PUT', path: /\/manifests\//, status: 500, times: Infinity });
  const r = repo();
  const err = await pushImage(c, archive, { repository: r, tags: ['v1'], log }).catch((e) => e);
  expect(isUserError(err)).toBe(true);
  expect(err.oneLine).toMatch(/could not write manifest sha256:[0-9a-f]{64} in faults\/r\d+ on .*HTTP 500 after 3 attempts/);
  await expect(skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/${r}:v1`)).rejects.toThrow(/manifest unknown/);
});

it('fails clearly when nothing listens', async () => {
  const port = await freePort();
  const log = recordingLog();
  const c = new Registry({ host: `127.0.0.1:${port}`, plainHttp: true, log, backoffMs: 5, retries: 1 });
  const err = await pushImage(c, archive, { repository: 'x/y', tags: ['v1'], log }).catch((e) => e);
  expect(isUserError(err)).toBe(true);
  expect(err.oneLine).toMatch(/could not reach the registry API on 127\.0\.0\.1:\d+ after 2 attempts: .*ECONNREFUSED/);
});

it('says which tags were moved and which were not when a tag write fails part-way', async () => {
  const { reg: c, log } = client({ retries: 1 });
  proxy.add({ method: 'PUT', path: /\/manifests\/t2$/, status: 500, times: Infinity });
  const r = repo();
  const err = await pushImage(c, archive, { repository: r, tags: ['t1', 't2', 't3'], log }).catch((e) => e);
  expect(isUserError(err)).toBe(true);
  const digest = /tags moved to (sha256:[0-9a-f]{64}): t1; tags not moved: t2, t3/.exec(err.oneLine)?.[1];
  expect(err.oneLine).toMatch(/could not write manifest t2 in faults\/r\d+ .*HTTP 500/);
  expect(digest).toBeDefined();
  // What the message says is what the registry holds.
  expect(JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/${r}:t1`)).Digest).toBe(digest);
  await expect(skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/${r}:t3`)).rejects.toThrow(/manifest unknown/);
});

describe('upload Locations on another origin', () => {
  const user = { username: 'ci', password: 'loc-Secret-pass' };
  const basic = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
  let locked: TestRegistry;
  let storage: FaultProxy;
  let front: FaultProxy;
  beforeAll(async () => {
    locked = await startRegistry({ auth: user });
    // "storage" stands in for a blob store the registry hands uploads to: it authorizes
    // by the URL it handed out (here: it adds the registry's credentials itself).
    storage = await startFaultProxy(locked.host, { upstreamAuthorization: basic });
    front = await startFaultProxy(locked.host, {
      rewriteLocation: (loc) => (/\/blobs\/uploads\//.test(loc) ? loc.replace(`http://${front.host}`, `http://${storage.host}`) : loc),
    });
  });
  afterAll(async () => {
    await front?.stop();
    await storage?.stop();
    await locked?.stop();
  });

  it('follows them without the registry credentials, which only the registry origin gets', async () => {
    const log = recordingLog();
    const secrets: string[] = [];
    const c = new Registry({ host: front.host, plainHttp: true, log, ...user, onSecret: (s) => secrets.push(s), monolithicMax: 4096, chunkSize: 4096 });
    const r = repo();
    const o = await pushImage(c, archive, { repository: r, tags: ['v1'], log });
    expect(storage.records.filter((x) => x.method === 'PATCH').length).toBeGreaterThan(0);
    expect(storage.records.filter((x) => x.method === 'PUT' && /\/blobs\/uploads\//.test(x.path))).toHaveLength(5);
    expect(storage.records.filter((x) => x.authorization !== undefined)).toEqual([]);
    expect(front.records.filter((x) => x.method === 'PUT' && /\/manifests\//.test(x.path)).every((x) => x.authorization === basic)).toBe(true);
    expect(secrets).toContain(basic.slice(6));
    const info = JSON.parse(await skopeo('inspect', '--tls-verify=false', '--creds', `${user.username}:${user.password}`, `docker://${locked.host}/${r}:v1`));
    expect(info.Digest).toBe(o.digest);
  });

  it('refuses a plain-HTTP Location on a host that is not loopback, sending nothing there', async () => {
    const elsewhere = await startFaultProxy(reg.host, { rewriteLocation: (loc) => loc.replace(/^http:\/\/127\.0\.0\.1:\d+/, 'http://storage.example.com:5000') });
    try {
      const log = recordingLog();
      const c = new Registry({ host: elsewhere.host, plainHttp: true, log, backoffMs: 5 });
      const err = await pushImage(c, archive, { repository: repo(), tags: ['v1'], log }).catch((e) => e);
      expect(isUserError(err)).toBe(true);
      expect(err.oneLine).toMatch(/sent a plain-HTTP Location on storage\.example\.com:5000, which is not loopback, refusing to follow it/);
      expect(elsewhere.records.some((x) => x.method === 'PUT' && /\/manifests\//.test(x.path))).toBe(false);
    } finally {
      await elsewhere.stop();
    }
  });
});
