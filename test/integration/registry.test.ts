import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireTool } from '../helpers/tools.js';

/** A one-layer OCI layout written by hand (an empty tar layer), for the registry harness. */
function tinyOciLayout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'oci-'));
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (data: Buffer) => {
    const d = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(blobs, d), data);
    return { digest: `sha256:${d}`, size: data.length };
  };
  const layer = put(Buffer.alloc(1024)); // an empty tar archive: two zero blocks
  const config = put(
    Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] }, config: {} })),
  );
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    ),
  );
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }] }),
  );
  return dir;
}

describe.each([
  ['without auth', undefined],
  ['with htpasswd auth', { username: 'ci', password: 's3cret-pass' }],
])('docker-registry harness %s', (_label, auth) => {
  let registry: TestRegistry;
  beforeAll(async () => {
    requireTool('skopeo', 'skopeo');
    registry = await startRegistry({ auth });
  });
  afterAll(() => registry?.stop());

  it('accepts a push that skopeo then reads back', () => {
    const layout = tinyOciLayout();
    const creds = auth ? ['--dest-creds', `${auth.username}:${auth.password}`] : [];
    const ref = `docker://${registry.host}/test/tiny:v1`;
    execFileSync('skopeo', ['copy', '--dest-tls-verify=false', ...creds, `oci:${layout}`, ref], { stdio: 'pipe' });
    const readCreds = auth ? ['--creds', `${auth.username}:${auth.password}`] : [];
    const info = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', ...readCreds, ref], { encoding: 'utf8' }));
    expect(info.Layers).toHaveLength(1);
    expect(info.Architecture).toBe('amd64');
  });

  if (auth) {
    it('refuses anonymous requests', async () => {
      const res = await fetch(`${registry.url}/v2/`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="test-realm"/);
    });
  }
});
