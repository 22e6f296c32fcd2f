import { readContext } from '../../src/github/context.js';
import { InputError, UserError } from '../../src/errors.js';
import { expandTags, sanitizeValue, tagValues } from '../../src/publish/tags.js';
import { addLabels, defaultMetadata, parseKeyValues } from '../../src/publish/metadata.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SHA = '0123456789abcdef0123456789abcdef01234567';

function ctx(env: Record<string, string>, event: unknown = {}) {
  const file = join(mkdtempSync(join(tmpdir(), 'tags-')), 'event.json');
  writeFileSync(file, JSON.stringify(event));
  return readContext({ GITHUB_SHA: SHA, GITHUB_REPOSITORY: 'vig-os/devc', GITHUB_EVENT_PATH: file, GITHUB_RUN_ID: '42', ...env });
}

describe('tag templates', () => {
  it('fills sha, short sha, branch and ref_name on a branch push; skips pr and version', () => {
    const v = tagValues(ctx({ GITHUB_REF: 'refs/heads/release/2.x', GITHUB_REF_NAME: 'release/2.x' }));
    const r = expandTags(['{{sha}}', 'sha-{{sha:7}}', '{{branch}}', '{{ref_name}}-{{run_id}}', 'pr-{{pr}}', '{{version}}', 'edge'], v);
    expect(r.tags).toEqual([SHA, 'sha-0123456', 'release-2.x', 'release-2.x-42', 'edge']);
    expect(r.skipped).toEqual([
      { template: 'pr-{{pr}}', reason: 'no pr in this run' },
      { template: '{{version}}', reason: 'no version in this run' },
    ]);
  });

  it('reads semver parts from a version tag', () => {
    const v = tagValues(ctx({ GITHUB_REF: 'refs/tags/v2.10.3-rc.1', GITHUB_REF_NAME: 'v2.10.3-rc.1' }));
    expect(expandTags(['{{version}}', '{{major}}.{{minor}}', 'v{{major}}', '{{tag}}', '{{patch}}'], v).tags).toEqual([
      '2.10.3-rc.1',
      '2.10',
      'v2',
      'v2.10.3-rc.1',
      '3',
    ]);
    // A tag that is no version still gives {{tag}}, not {{version}}.
    const plain = tagValues(ctx({ GITHUB_REF: 'refs/tags/nightly', GITHUB_REF_NAME: 'nightly' }));
    expect(expandTags(['{{tag}}', '{{version}}'], plain)).toEqual({ tags: ['nightly'], skipped: [{ template: '{{version}}', reason: 'no version in this run' }] });
  });

  it('takes the PR number and head branch from a pull_request event', () => {
    const v = tagValues(ctx({ GITHUB_REF: 'refs/pull/17/merge', GITHUB_REF_NAME: '17/merge' }, { pull_request: { number: 17, head: { ref: 'feat/x' } } }));
    expect(expandTags(['pr-{{pr}}', '{{branch}}', '{{ref_name}}'], v).tags).toEqual(['pr-17', 'feat-x', '17-merge']);
  });

  it('sanitizes values from the run, and trims what a value puts at the front', () => {
    expect(sanitizeValue('feat/ünï code;rm -rf')).toBe('feat--n--code-rm--rf');
    const v = { branch: '--weird/.name', sha: SHA };
    expect(expandTags(['{{branch}}'], v).tags).toEqual(['weird-.name']);
    expect(expandTags(['{{branch}}'], { branch: 'x'.repeat(300) }).tags[0]).toHaveLength(128);
  });

  it.each([
    ['{{shaa}}', /unknown placeholder \{\{shaa\}\}/],
    ['{{branch:7}}', /unknown placeholder \{\{branch:7\}\}/],
    ['{{sha:0}}', /must take 1 to 40/],
    ['{{sha', /unbalanced/],
    ['v1}}', /unbalanced/],
    ['-leading', /is not a valid tag/],
    ['.hidden', /is not a valid tag/],
    ['a::error::pwned', /is not a valid tag/],
    ['$(touch x)', /is not a valid tag/],
    ['x'.repeat(129), /is not a valid tag/],
    ['registry/repo:tag', /is not a valid tag/],
  ])('refuses %j with one clear line', (template, message) => {
    let err: unknown;
    try {
      expandTags([template], { sha: SHA });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).oneLine).toMatch(/^Input 'tags': /);
    expect((err as InputError).oneLine).toMatch(message);
    expect((err as InputError).oneLine).not.toMatch(/\n/);
  });

  it('writes each tag once', () => {
    expect(expandTags(['latest', 'latest', '{{ref_name}}'], { ref_name: 'latest' }).tags).toEqual(['latest']);
  });
});

describe('labels and annotations', () => {
  it('parses key=value lines, and none', () => {
    expect(parseKeyValues('labels', ['a.b=c=d', 'org.x/y = z '])).toEqual({ none: false, values: { 'a.b': 'c=d', 'org.x/y': 'z' } });
    expect(parseKeyValues('labels', ['none'])).toEqual({ none: true, values: {} });
    expect(() => parseKeyValues('labels', ['novalue'])).toThrow(/^Input 'labels': 'novalue' is not key=value/);
    expect(() => parseKeyValues('annotations', ['-x=1'])).toThrow(/^Input 'annotations': '-x' is not a valid key/);
    expect(() => parseKeyValues('labels', ['a b=1'])).toThrow(/not a valid key/);
  });

  it('defaults to the OCI keys, with the license from the event', () => {
    const c = ctx({ GITHUB_REF: 'refs/tags/v1.2.0' }, { repository: { license: { spdx_id: 'MIT' } } });
    expect(defaultMetadata(c, tagValues(c), '2024-01-02T03:04:05Z')).toEqual({
      'org.opencontainers.image.source': 'https://github.com/vig-os/devc',
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.version': '1.2.0',
      'org.opencontainers.image.created': '2024-01-02T03:04:05Z',
      'org.opencontainers.image.licenses': 'MIT',
    });
    const noLicense = ctx({}, { repository: { license: { spdx_id: 'NOASSERTION' } } });
    expect(defaultMetadata(noLicense, {}, undefined)).not.toHaveProperty('org.opencontainers.image.licenses');
  });

  it('adds labels to the config and changes nothing else', () => {
    const original = { architecture: 'amd64', created: '1970-01-01T00:00:01Z', config: { Cmd: ['/bin/sh'], Labels: { keep: 'me' } }, rootfs: { type: 'layers', diff_ids: ['sha256:aa'] } };
    const out = JSON.parse(addLabels(Buffer.from(JSON.stringify(original)), { added: 'yes' }).toString());
    expect(out).toEqual({ ...original, config: { ...original.config, Labels: { keep: 'me', added: 'yes' } } });
    expect(Object.keys(out)).toEqual(Object.keys(original));
    const untouched = Buffer.from('{ "odd":   "spacing" }');
    expect(addLabels(untouched, {})).toBe(untouched);
    expect(() => addLabels(Buffer.from('not json'), { a: 'b' })).toThrow(UserError);
  });
});
