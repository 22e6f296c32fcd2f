import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readContext } from '../../src/github/context.js';
import { recordingLog } from '../../src/log.js';
import { isUserError } from '../../src/errors.js';
import { openImage } from '../../src/oci/image.js';
import { Registry } from '../../src/oci/registry.js';
import { pushImage } from '../../src/oci/push.js';
import { sha256 } from '../../src/oci/digest.js';
import { publish, summaryMarkdown, type PublishRequest } from '../../src/publish/publish.js';
import { buildOut, writeImageFlake, IMAGE_ATTRS, ARCH } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { startTokenServer, type TokenServer } from '../helpers/token-server.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { MEDIA } from '../../src/oci/media.js';
import { Readable } from 'node:stream';
import { commitAll, initRepo } from '../helpers/git.js';
import { requireTool } from '../helpers/tools.js';

/**
 * The publish core against Debian's docker-registry on loopback, with skopeo as
 * the independent reader: what it finds in the registry must be what Nix built.
 */
const execFileAsync = promisify(execFile);
const FORMS = ['docker-archive', 'docker-archive-gz', 'docker-archive-zst', 'stream', 'oci-dir', 'oci-archive'] as const;
type Form = (typeof FORMS)[number];

const flake = writeImageFlake();
const built: Record<string, string> = {};
const scratch = mkdtempSync(join(tmpdir(), 'nix-actions-publish-test-'));
const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

beforeAll(() => {
  requireTool('skopeo', 'skopeo');
  for (const attr of FORMS) built[attr] = buildOut(flake.installable(attr));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Async: the token server runs in this process, so a blocking call would starve it.
async function skopeo(...args: string[]): Promise<string> {
  return (await execFileAsync('skopeo', args, { encoding: 'utf8', maxBuffer: 1 << 26 })).stdout;
}

/** How skopeo reads the built image (it cannot read compressed docker-archives or run scripts: unpack first). */
function sourceRef(form: Form): string {
  const path = built[form];
  const tmp = join(scratch, `${form}.tar`);
  switch (form) {
    case 'docker-archive':
      return `docker-archive:${path}`;
    case 'docker-archive-gz':
      writeFileSync(tmp, execFileSync('gzip', ['-dc', path], { maxBuffer: 1 << 28 }));
      return `docker-archive:${tmp}`;
    case 'docker-archive-zst':
      writeFileSync(tmp, execFileSync('zstd', ['-dcq', path], { maxBuffer: 1 << 28 }));
      return `docker-archive:${tmp}`;
    case 'stream':
      writeFileSync(tmp, execFileSync(path, [], { maxBuffer: 1 << 28 }));
      return `docker-archive:${tmp}`;
    case 'oci-dir':
      return `oci:${path}`;
    case 'oci-archive':
      return `oci-archive:${path}`;
  }
}

function context(env: Record<string, string> = {}) {
  const event = join(scratch, `event-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(event, env.EVENT ?? '{}');
  return readContext({
    GITHUB_REPOSITORY: 'Vig-OS/Example',
    GITHUB_SHA: SHA,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: event,
    GITHUB_ACTOR: 'octocat',
    GITHUB_WORKSPACE: scratch,
    GITHUB_RUN_ID: '77',
    ...env,
  });
}

function request(reg: { host: string }, over: Partial<PublishRequest>): PublishRequest {
  return {
    registry: reg.host,
    plainHttp: true,
    tags: [],
    labels: [],
    annotations: [],
    index: [],
    mountFrom: [],
    ctx: context(),
    env: {},
    log: recordingLog(),
    client: { backoffMs: 20 },
    ...over,
  };
}

describe('every image form build reports', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(() => reg?.stop());

  it.each(FORMS)('%s: pushed as built, read back by skopeo, and a re-push skips every blob', async (form) => {
    const repo = `forms/${form}`;
    const first = await publish(request(reg, { image: built[form], repository: repo, tags: ['v1'], labels: ['none'], annotations: ['none'] }));
    expect(first.format).toBe(IMAGE_ATTRS[form]);
    expect(first.bytesPushed).toBeGreaterThan(0);
    expect(first.blobs.every((b) => b.status === 'pushed')).toBe(true);

    const ref = `docker://${reg.host}/${repo}:v1`;
    const remote = JSON.parse(await skopeo('inspect', '--tls-verify=false', ref));
    const local = JSON.parse(await skopeo('inspect', sourceRef(form)));
    expect(remote.Digest).toBe(first.digest);
    expect(remote.Layers).toEqual(local.Layers);
    expect(remote.Layers).toHaveLength(4);
    // The config is byte for byte the one Nix built (labels: none).
    expect(await skopeo('inspect', '--tls-verify=false', '--raw', '--config', ref)).toBe(await skopeo('inspect', '--raw', '--config', sourceRef(form)));
    if (form === 'oci-dir' || form === 'oci-archive') {
      // An OCI image keeps its very manifest: same digest as built.
      expect(first.digest).toBe(sha256(Buffer.from(await skopeo('inspect', '--raw', sourceRef(form)))));
    }
    // skopeo copy checks every blob's digest as it pulls.
    const out = join(scratch, `copy-${form}`);
    await skopeo('copy', '--src-tls-verify=false', ref, `oci:${out}`);
    rmSync(out, { recursive: true, force: true });

    const again = await publish(request(reg, { image: built[form], repository: repo, tags: ['v1'], labels: ['none'], annotations: ['none'] }));
    expect(again.digest).toBe(first.digest);
    expect(again.bytesPushed).toBe(0);
    expect(again.blobs.map((b) => b.status)).toEqual(first.blobs.map(() => 'skipped'));
    expect(again.bytesSkipped).toBe(first.bytesPushed);
  });

  it.each([
    ['gzip', ['gzip', '-nc']],
    ['zstd', ['zstd', '-qc']],
  ])('oci-archive+%s (the Nix-built OCI archive, compressed): pushed as built', async (kind, cmd) => {
    const file = join(scratch, `oci-archive.tar.${kind}`);
    writeFileSync(file, execFileSync(cmd[0], [...cmd.slice(1), built['oci-archive']], { maxBuffer: 1 << 28 }));
    const o = await publish(request(reg, { image: file, repository: `forms/oci-archive-${kind}`, tags: ['v1'], labels: ['none'], annotations: ['none'] }));
    expect(o.format).toBe(`oci-archive+${kind}`);
    // The very manifest that was built, so the same digest as the uncompressed archive gives.
    expect(o.digest).toBe(sha256(Buffer.from(await skopeo('inspect', '--raw', sourceRef('oci-archive')))));
    const remote = JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/forms/oci-archive-${kind}:v1`));
    expect(remote.Layers).toEqual(JSON.parse(await skopeo('inspect', sourceRef('oci-archive'))).Layers);
  });

  it('mounts blobs from another repository instead of uploading them', async () => {
    const a = await publish(request(reg, { image: built['docker-archive'], repository: 'mount/source', tags: ['v1'] }));
    const b = await publish(request(reg, { image: built['docker-archive'], repository: 'mount/target', tags: ['v1'], mountFrom: ['mount/source'] }));
    expect(b.digest).toBe(a.digest);
    expect(b.bytesPushed).toBe(0);
    expect(b.blobs.every((x) => x.status === 'mounted')).toBe(true);
    expect(b.bytesMounted).toBe(a.bytesPushed);
    expect(JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/mount/target:v1`)).Digest).toBe(a.digest);
    expect(summaryMarkdown(b)).toMatch(/0 pushed, 0 already in the registry, 5 mounted/);
  });

  it('writes every templated tag to one manifest and skips templates with no value', async () => {
    const ctx = context({ GITHUB_REF: 'refs/heads/feature/x', GITHUB_REF_NAME: 'feature/x' });
    const o = await publish(
      request(reg, { image: built['docker-archive-gz'], repository: 'tags/app', tags: ['{{sha:7}}', 'sha-{{sha}}', '{{branch}}', 'pr-{{pr}}', 'latest'], ctx }),
    );
    expect(o.tags).toEqual(['a1b2c3d', `sha-${SHA}`, 'feature-x', 'latest']);
    expect(o.skippedTags).toEqual([{ template: 'pr-{{pr}}', reason: 'no pr in this run' }]);
    const listed = JSON.parse(await skopeo('list-tags', '--tls-verify=false', `docker://${reg.host}/tags/app`)).Tags.sort();
    expect(listed).toEqual([...o.tags].sort());
    for (const t of o.tags) expect(JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/tags/app:${t}`)).Digest).toBe(o.digest);
  });

  it('adds OCI labels and annotations (created = commit time) and changes nothing else', async () => {
    const repoDir = initRepo();
    writeFileSync(join(repoDir, 'README'), 'x');
    const sha = commitAll(repoDir, 'release', '2024-03-05T06:07:08+02:00');
    const ctx = context({ GITHUB_SHA: sha, GITHUB_WORKSPACE: repoDir, GITHUB_REF: 'refs/tags/v1.4.2', GITHUB_REF_NAME: 'v1.4.2',
      EVENT: JSON.stringify({ repository: { license: { spdx_id: 'Apache-2.0' } } }) });
    const o = await publish(
      request(reg, { image: built.stream, repository: 'labels/app', tags: ['{{version}}', '{{major}}.{{minor}}'], labels: ['org.example.team=devices', 'org.opencontainers.image.vendor=vig-os'], annotations: ['org.example.note=audited'], ctx }),
    );
    expect(o.tags).toEqual(['1.4.2', '1.4']);
    const ref = `docker://${reg.host}/labels/app:1.4.2`;
    const remote = JSON.parse(await skopeo('inspect', '--tls-verify=false', ref));
    expect(remote.Labels).toEqual({
      'org.opencontainers.image.title': flake.imageName, // the label the image was built with stays
      'org.opencontainers.image.source': 'https://github.com/Vig-OS/Example',
      'org.opencontainers.image.revision': sha,
      'org.opencontainers.image.version': '1.4.2',
      'org.opencontainers.image.created': '2024-03-05T04:07:08Z',
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'org.opencontainers.image.vendor': 'vig-os',
      'org.example.team': 'devices',
    });
    // Same layers as built; the config differs only in its labels.
    const local = JSON.parse(await skopeo('inspect', sourceRef('stream')));
    expect(remote.Layers).toEqual(local.Layers);
    const cfgRemote = JSON.parse(await skopeo('inspect', '--tls-verify=false', '--raw', '--config', ref));
    const cfgLocal = JSON.parse(await skopeo('inspect', '--raw', '--config', sourceRef('stream')));
    delete cfgRemote.config.Labels;
    delete cfgLocal.config.Labels;
    expect(cfgRemote).toEqual(cfgLocal);
    const manifest = JSON.parse(await skopeo('inspect', '--tls-verify=false', '--raw', ref));
    expect(manifest.annotations['org.example.note']).toBe('audited');
    expect(manifest.annotations['org.opencontainers.image.revision']).toBe(sha);
  });

  it('publishes an OCI index over two arch images and refuses one with a missing child', async () => {
    const log = recordingLog();
    const client = new Registry({ host: reg.host, plainHttp: true, log });
    const image = await openImage(built['docker-archive']);
    const native = await pushImage(client, image, { repository: 'multi/app', tags: [], log });
    // A second arch: the same layers under a config for the other architecture.
    const other = ARCH === 'amd64' ? 'arm64' : 'amd64';
    const cfg = JSON.parse(image.config.toString('utf8'));
    cfg.architecture = other;
    const foreign = await pushImage(client, image, { repository: 'multi/other-arch', tags: [], config: Buffer.from(JSON.stringify(cfg)), log });

    const o = await publish(request(reg, { repository: 'multi/app', index: [native.digest, `${reg.host}/multi/other-arch@${foreign.digest}`], tags: ['v2'] }));
    expect(o.kind).toBe('index');
    expect(o.children!.map((c) => c.copied)).toEqual([false, true]);
    const raw = JSON.parse(await skopeo('inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/multi/app:v2`));
    expect(raw.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(raw.manifests.map((m: any) => [m.digest, m.platform.architecture])).toEqual([
      [native.digest, ARCH],
      [foreign.digest, other],
    ]);
    expect(sha256(Buffer.from(await skopeo('inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/multi/app:v2`)))).toBe(o.digest);
    for (const arch of [ARCH, other]) {
      // skopeo resolves the index to the image for the platform asked for.
      const picked = JSON.parse(await skopeo('inspect', '--tls-verify=false', '--override-arch', arch, '--override-os', 'linux', `docker://${reg.host}/multi/app:v2`));
      expect(picked.Architecture).toBe(arch);
      expect(picked.Layers).toHaveLength(4);
    }

    const missing = `sha256:${'0'.repeat(64)}`;
    const err = await publish(request(reg, { repository: 'multi/app', index: [native.digest, missing], tags: ['broken'] })).catch((e) => e);
    expect(isUserError(err)).toBe(true);
    expect(err.message).toMatch(/refusing to publish the index: .* has no image sha256:0{64}/);
    await expect(skopeo('inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/multi/app:broken`)).rejects.toThrow(/manifest unknown/);
  });

  it('refuses an index child that is not a container image with a clear error', async () => {
    const log = recordingLog();
    const client = new Registry({ host: reg.host, plainHttp: true, log });
    const image = await openImage(built['docker-archive']);
    const native = await pushImage(client, image, { repository: 'multi/artifact', tags: [], log });
    // An OCI artifact: a config blob that is no image config, and no layers.
    const cfg = Buffer.from('not a json config');
    const cfgDesc = { mediaType: 'application/vnd.example.config', digest: sha256(cfg), size: cfg.length };
    await client.ping('multi/artifact');
    await client.uploadBlob('multi/artifact', cfgDesc, { open: (s) => Readable.from([cfg.subarray(s)]) });
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, artifactType: 'application/vnd.example', config: cfgDesc, layers: [] }));
    const artifact = await client.putManifest('multi/artifact', sha256(m), m, MEDIA.ociManifest);
    const err = await publish(request(reg, { repository: 'multi/artifact', index: [native.digest, artifact], tags: ['bad'] })).catch((e) => e);
    expect(isUserError(err)).toBe(true);
    expect(err.oneLine).toMatch(new RegExp(`index child '${artifact}' is not a container image: its config is application/vnd\\.example\\.config`));
    await expect(skopeo('inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/multi/artifact:bad`)).rejects.toThrow(/manifest unknown/);
  });

  it('refuses a damaged docker-archive: each uploaded layer is checked against its diff_id while it streams, nothing is tagged', async () => {
    const damaged = join(scratch, 'damaged.tar');
    const bytes = readFileSync(built['docker-archive']);
    const image = await openImage(built['docker-archive']);
    // Flip one byte inside the data of the first layer (past its 512-byte tar header).
    const { indexTar } = await import('../../src/oci/tar.js');
    const entry = (await indexTar(built['docker-archive'])).find((e) => e.path === image.layers[0].entry)!;
    bytes[entry.offset + 600] ^= 0xff;
    writeFileSync(damaged, bytes);
    const err = await publish(request(reg, { image: damaged, repository: 'damaged/app', tags: ['v1'] })).catch((e) => e);
    expect(isUserError(err)).toBe(true);
    expect(err.oneLine).toMatch(/layer .*layer\.tar in .*damaged\.tar hashes to sha256:[a-f0-9]{64} but the config says sha256:[a-f0-9]{64}: refusing to push it/);
    await expect(skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/damaged/app:v1`)).rejects.toThrow(/manifest unknown/);
  });

  it('fails clearly on a missing image and on a bad template, before touching the registry', async () => {
    const missing = await publish(request(reg, { image: join(scratch, 'nope.tar'), repository: 'x/y' })).catch((e) => e);
    expect(isUserError(missing)).toBe(true);
    expect(missing.oneLine).toMatch(/image .*nope\.tar does not exist.*NIX_ACTIONS_IMAGE/);
    const none = await publish(request(reg, { repository: 'x/y' })).catch((e) => e);
    expect(none.oneLine).toMatch(/no image to publish/);
    const bad = await publish(request(reg, { image: built['docker-archive'], repository: 'x/y', tags: ['{{shaa}}'] })).catch((e) => e);
    expect(bad.oneLine).toMatch(/^Input 'tags': unknown placeholder \{\{shaa\}\}/);
  });
});

describe('authentication', () => {
  it('basic auth (htpasswd): pushes with the right password, names the missing permission otherwise', async () => {
    const reg = await startRegistry({ auth: { username: 'ci', password: 'right-pass' } });
    try {
      const ok = await publish(request(reg, { image: built['oci-dir'], repository: 'auth/basic', tags: ['v1'], username: 'ci', password: 'right-pass' }));
      expect(JSON.parse(await skopeo('inspect', '--tls-verify=false', '--creds', 'ci:right-pass', `docker://${reg.host}/auth/basic:v1`)).Digest).toBe(ok.digest);
      const log = recordingLog();
      const err = await publish(request(reg, { image: built['oci-dir'], repository: 'auth/basic', tags: ['v2'], username: 'ci', password: 'wrong-pass', log })).catch((e) => e);
      expect(isUserError(err)).toBe(true);
      expect(err.oneLine).toMatch(/refused to .*HTTP 401.*lack push access.*'username' \(user 'ci'\) and 'password'/);
      expect(JSON.stringify(log.lines)).not.toContain('wrong-pass');
    } finally {
      await reg.stop();
    }
  });

  it('never sends the job token to a registry that is not GitHub\'s: no password given means no credentials', async () => {
    const reg = await startRegistry({ auth: { username: 'ci', password: 'right-pass' } });
    const proxy = await startFaultProxy(reg.host);
    try {
      const jobToken = 'ghs_jobTokenSecret123';
      const err = await publish(request({ host: proxy.host }, { image: built['oci-dir'], repository: 'auth/notoken', tags: ['v1'], githubToken: jobToken })).catch((e) => e);
      expect(isUserError(err)).toBe(true);
      expect(err.oneLine).toMatch(/refused to .*HTTP 401/);
      expect(proxy.records.length).toBeGreaterThan(0);
      expect(proxy.records.filter((r) => r.authorization !== undefined)).toEqual([]);
    } finally {
      await proxy.stop();
      await reg.stop();
    }
  });

  describe('bearer tokens from the 401 challenge', () => {
    let tokens: TokenServer;
    let reg: TestRegistry;
    beforeAll(async () => {
      tokens = await startTokenServer({ pusher: { password: 'push-pass', actions: ['pull', 'push'] }, reader: { password: 'read-pass', actions: ['pull'] } });
      reg = await startRegistry({ tokenAuth: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.certFile } });
    });
    afterAll(async () => {
      await reg?.stop();
      await tokens?.stop();
    });

    it('gets a token scoped to the repository, masks it, and pushes', async () => {
      const secrets: string[] = [];
      const log = recordingLog();
      const o = await publish(
        request(reg, { image: built['docker-archive-zst'], repository: 'auth/bearer', tags: ['v1'], username: 'pusher', password: 'push-pass', onSecret: (s) => secrets.push(s), log }),
      );
      expect(tokens.requests.some((r) => r.user === 'pusher' && r.scopes.includes('repository:auth/bearer:pull,push') && r.status === 200)).toBe(true);
      // The basic credentials (sent to the token realm) are masked first, then every token.
      expect(secrets[0]).toBe(Buffer.from('pusher:push-pass').toString('base64'));
      expect(secrets.length).toBeGreaterThan(1);
      expect(secrets.slice(1).every((s) => tokens.issued.includes(s))).toBe(true);
      for (const t of tokens.issued) expect(JSON.stringify(log.lines)).not.toContain(t);
      // skopeo does the same bearer dance with the same credentials.
      expect(JSON.parse(await skopeo('inspect', '--tls-verify=false', '--creds', 'pusher:push-pass', `docker://${reg.host}/auth/bearer:v1`)).Digest).toBe(o.digest);
    });

    it('says which permission is missing when the token only allows pulling', async () => {
      const err = await publish(request(reg, { image: built['docker-archive-zst'], repository: 'auth/bearer', tags: ['v2'], username: 'reader', password: 'read-pass' })).catch((e) => e);
      expect(isUserError(err)).toBe(true);
      expect(err.oneLine).toMatch(/refused to .*: the credentials lack push access/);
      await expect(skopeo('inspect', '--tls-verify=false', '--creds', 'pusher:push-pass', `docker://${reg.host}/auth/bearer:v2`)).rejects.toThrow();
    });

    it('asks the token realm anonymously when no password is given, whatever the job token', async () => {
      const before = tokens.requests.length;
      const err = await publish(request(reg, { image: built['docker-archive-zst'], repository: 'auth/bearer', tags: ['v3'], githubToken: 'push-pass' })).catch((e) => e);
      expect(isUserError(err)).toBe(true);
      const asked = tokens.requests.slice(before);
      expect(asked.length).toBeGreaterThan(0);
      expect(asked.every((r) => r.user === undefined)).toBe(true);
    });

    it('reports credentials the token service rejects', async () => {
      const err = await publish(request(reg, { image: built['docker-archive-zst'], repository: 'auth/bearer', username: 'pusher', password: 'nope' })).catch((e) => e);
      expect(err.oneLine).toMatch(/token service .* refused the credentials .*HTTP 401/);
    });
  });
});
