import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { NODE24, ROOT } from '../helpers/bundle.js';

/**
 * The artifact and attestation clients run as their own bundles (src/runner/services.ts).
 * Outside GitHub Actions they must answer with one clear error line, not hang or crash.
 */
describe.each([
  ['upload-artifact', { name: 'x', files: [], rootDirectory: '/tmp' }, /artifact service is not available here/],
  ['attest', { file: '/nonexistent.json', predicateType: 'https://cyclonedx.org/bom', subjectName: 'r', subjectDigest: `sha256:${'0'.repeat(64)}`, token: '' }, /./],
])('dist/%s', (service, request, message) => {
  it('answers one JSON error line and exits 1 when the service is unreachable', () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    const r = spawnSync(NODE24, [join(ROOT, 'dist', service, 'index.js')], { input: JSON.stringify(request), env, encoding: 'utf8', timeout: 60000 });
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const answer = JSON.parse(lines[0]);
    expect(answer.ok).toBeUndefined();
    expect(answer.error).toMatch(message);
    expect(answer.error).not.toContain('\n');
  });
});
