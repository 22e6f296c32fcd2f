import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Nix } from '../../src/nix/index.js';
import { createArchive, missingFromCache, verifyArchive, type ArchiveResult } from '../../src/archive/index.js';
import { UserError } from '../../src/errors.js';
import { recordingLog } from '../../src/log.js';
import { NIX_TEST_CONF, nixEnv, salt, writeFlake } from '../helpers/nix.js';
import { buildOut, contentPaths, IMAGE_CONTENTS, writeImageFlake, type ImageFlake } from '../helpers/images.js';

/**
 * Verification rebuilds in a chroot store, which always builds in the sandbox: the
 * test derivations use the host's /bin/sh and tools, so those are mapped in.
 */
const SANDBOX_PATHS = ['/bin', '/usr', '/lib', '/lib64'].filter((p) => existsSync(p)).join(' ');
const CONF = `${NIX_TEST_CONF}\nextra-sandbox-paths = ${SANDBOX_PATHS}`;
const env = nixEnv({ NIX_CONFIG: CONF });
let nix: Nix;
let flake: ImageFlake;
const newDir = () => join(mkdtempSync(join(tmpdir(), 'archive-test-')), 'nix-archive');
const valid = (p: string) => {
  try {
    execFileSync('nix-store', ['--check-validity', p], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  nix = await Nix.detect({ env });
  flake = writeImageFlake();
});

describe('archive, scope build', () => {
  let a: ArchiveResult;
  let paths: Record<string, string>;

  beforeAll(async () => {
    paths = contentPaths(flake);
    a = await createArchive(nix, recordingLog(), { installable: flake.installable('devcontainer'), scope: 'build', dir: newDir() });
  });

  it('writes a cache, manifest and README describing the build closure', () => {
    const m = a.manifest;
    expect(m.nixVersion).toBe(nix.version);
    expect(m.scope).toBe('build');
    expect(m.drvPath).toMatch(/-devcontainer\.tar\.gz\.drv$/);
    expect(m.outputs.out.path).toBe(buildOut(flake.installable('devcontainer')));
    expect(m.outputs.out.narHash).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/);
    const listed = m.paths.map((p) => p.path);
    // every derivation of the image and the builder script, and the flake source
    for (const name of ['hello-2.12.1.drv', 'libfoo-1.2.3.drv', 'zlib-1.3.1.drv', 'cacert-3.98.drv', 'devcontainer.tar.gz.drv', 'mkimage.sh']) {
      expect(listed.some((p) => p.endsWith(`-${name}`))).toBe(true);
    }
    expect(listed).toContain(m.flake.path);
    expect(m.flake.narHash).toMatch(/^sha256-/);
    // build scope holds no built outputs
    expect(listed).not.toContain(paths.hello);
    for (const p of m.paths) {
      expect(p.narHash).toMatch(/^sha256-/);
      expect(p.narSize).toBeGreaterThan(0);
      expect(existsSync(join(a.dir, 'cache', `${basename(p.path).slice(0, 32)}.narinfo`))).toBe(true);
    }
    expect(m.narSize).toBe(m.paths.reduce((n, p) => n + p.narSize, 0));
    expect(a.size).toBeGreaterThan(0);
    const readme = readFileSync(join(a.dir, 'README.md'), 'utf8');
    expect(readme).toContain(m.drvPath);
    expect(readme).toContain('nix-store --store "$S"');
    expect(JSON.parse(readFileSync(a.manifestPath, 'utf8'))).toEqual(m);
  });

  it('verify rebuilds from the archive alone, after the built paths are deleted from the store', async () => {
    const out = a.manifest.outputs.out.path;
    execFileSync('nix-store', ['--delete', out, ...IMAGE_CONTENTS.map((x) => paths[x])], { env, stdio: 'pipe' });
    expect(valid(out)).toBe(false);
    expect(valid(paths.hello)).toBe(false);
    const log = recordingLog();
    const v = await verifyArchive(nix, log, a.dir);
    expect(v.evaluatedDrvPath).toBe(a.manifest.drvPath);
    expect(v.outputs).toEqual([
      { name: 'out', path: out, narHash: a.manifest.outputs.out.narHash, expectedNarHash: a.manifest.outputs.out.narHash, identical: true },
    ]);
    // it built every package again: the log shows them
    const text = log.lines.map((l) => l.message).join('\n');
    for (const n of ['hello-2.12.1', 'libfoo-1.2.3', 'zlib-1.3.1', 'cacert-3.98']) expect(text).toMatch(new RegExp(`building '/nix/store/[a-z0-9]{32}-${n}\\.drv'`));
    // ...in a fresh store, not this one
    expect(valid(out)).toBe(false);
  });

  it('verify fails naming a derivation removed from the archive', async () => {
    const copy = newDir();
    execFileSync('cp', ['-a', a.dir, copy]);
    const libfooDrv = a.manifest.paths.find((p) => p.path.endsWith('-libfoo-1.2.3.drv'))!.path;
    rmSync(join(copy, 'cache', `${basename(libfooDrv).slice(0, 32)}.narinfo`));
    expect(await missingFromCache(copy, a.manifest)).toEqual([libfooDrv]);
    const err = await verifyArchive(nix, recordingLog(), copy).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.oneLine).toMatch(/^Verification failed: the archive is missing 1 store path\(s\) needed to rebuild/);
    expect(err.oneLine).toContain(libfooDrv);
  });

  it('verify fails naming a path whose NAR file is gone, and when the cache lacks what Nix needs', async () => {
    const copy = newDir();
    execFileSync('cp', ['-a', a.dir, copy]);
    const src = a.manifest.flake.path;
    const narinfo = readFileSync(join(copy, 'cache', `${basename(src).slice(0, 32)}.narinfo`), 'utf8');
    rmSync(join(copy, 'cache', /^URL: (.+)$/m.exec(narinfo)![1]));
    await expect(verifyArchive(nix, recordingLog(), copy)).rejects.toThrow(src);
    // a manifest that forgot a path: Nix itself finds the hole
    const copy2 = newDir();
    execFileSync('cp', ['-a', a.dir, copy2]);
    const zlibDrv = a.manifest.paths.find((p) => p.path.endsWith('-zlib-1.3.1.drv'))!.path;
    rmSync(join(copy2, 'cache', `${basename(zlibDrv).slice(0, 32)}.narinfo`));
    const m = JSON.parse(readFileSync(join(copy2, 'manifest.json'), 'utf8'));
    m.paths = m.paths.filter((p: any) => p.path !== zlibDrv);
    writeFileSync(join(copy2, 'manifest.json'), JSON.stringify(m));
    const err = await verifyArchive(nix, recordingLog(), copy2).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.oneLine).toMatch(/^Verification failed: restoring derivations from the archive: /);
    expect(err.oneLine).toContain(basename(zlibDrv).slice(0, 32));
  });
});

describe('archive with a flake input and a fixed-output source', () => {
  it('records the input lock and the source hash, and verify checks them', async () => {
    const s = salt();
    const text = `source ${s}\n`;
    const hash = createHash('sha256').update(text).digest('hex');
    const dep = writeFlake(`{ lib.greeting = "hi ${s}"; }`);
    const dir = writeFlake(
      `let
        src = mkWith { name = "tool-1.0.tar"; outputHashMode = "flat"; outputHashAlgo = "sha256"; outputHash = "${hash}"; args = [ "-c" "printf 'source %s\\\\n' ${s} > $out" ]; };
      in { packages.\${system}.default = mkWith { name = "tool-1.0"; inherit src; greeting = inputs.dep.lib.greeting; args = [ "-c" "cat $src > $out; echo $greeting >> $out" ]; }; }`,
      { inputs: `dep.url = "path:${dep}";` },
    );
    execFileSync('nix', ['flake', 'lock', `path:${dir}`], { env, stdio: 'pipe' });
    const a = await createArchive(nix, recordingLog(), { installable: `path:${dir}`, scope: 'build', dir: newDir() });
    const m = a.manifest;
    expect(m.attr).toBe('default');
    expect(m.inputs).toHaveLength(1);
    expect(m.inputs[0]).toMatchObject({ input: 'dep', node: 'dep', type: 'path', narHash: expect.stringMatching(/^sha256-/) });
    expect(m.paths.map((p) => p.path)).toContain(m.inputs[0].path);
    expect(m.fixedOutputs).toHaveLength(1);
    expect(m.fixedOutputs[0]).toMatchObject({ hashAlgo: 'sha256', hash });
    expect(m.fixedOutputs[0].path).toMatch(/-tool-1\.0\.tar$/);
    expect(m.paths.map((p) => p.path)).toContain(m.fixedOutputs[0].path);

    const v = await verifyArchive(nix, recordingLog(), a.dir);
    expect(v.fixedOutputs).toBe(1);
    expect(v.outputs[0].identical).toBe(true);

    // a source swapped in the archive, with a .narinfo that matches the swap
    const tampered = newDir();
    execFileSync('cp', ['-a', a.dir, tampered]);
    const fod = m.fixedOutputs[0].path;
    const evil = join(mkdtempSync(join(tmpdir(), 'evil-')), 'x');
    writeFileSync(evil, 'not the source\n');
    const nar = execFileSync('nix-store', ['--dump', evil], { env });
    writeFileSync(join(tampered, 'cache', 'nar', 'evil.nar'), nar);
    const narHash = execFileSync('nix', ['hash', 'file', '--type', 'sha256', '--base32', join(tampered, 'cache', 'nar', 'evil.nar')], { env, encoding: 'utf8' }).trim();
    const info = join(tampered, 'cache', `${basename(fod).slice(0, 32)}.narinfo`);
    const kept = readFileSync(info, 'utf8')
      .split('\n')
      .filter((l) => /^(StorePath|References|Deriver|CA):/.test(l));
    writeFileSync(info, [...kept, 'URL: nar/evil.nar', 'Compression: none', `NarHash: sha256:${narHash}`, `NarSize: ${nar.length}`, ''].join('\n'));
    const bad = await verifyArchive(nix, recordingLog(), tampered).catch((e) => e);
    expect(bad).toBeInstanceOf(UserError);
    expect(bad.oneLine).toMatch(/^Verification failed: restoring sources from the archive: ca hash mismatch importing path/);
    expect(bad.oneLine).toContain(fod);
    // ...and without its CA line Nix imports it: the hash check against the derivation catches it
    writeFileSync(info, readFileSync(info, 'utf8').replace(/^CA:.*\n/m, ''));
    const worse = await verifyArchive(nix, recordingLog(), tampered).catch((e) => e);
    expect(worse).toBeInstanceOf(UserError);
    expect(worse.oneLine).toBe(
      `Verification failed: the archived source ${fod} has sha256 ${createHash('sha256').update('not the source\n').digest('hex')}, but ${m.fixedOutputs[0].drvPath} expects ${hash}: the archive was altered`,
    );

    // without the fetched source, the archive cannot rebuild offline
    rmSync(join(a.dir, 'cache', `${basename(m.fixedOutputs[0].path).slice(0, 32)}.narinfo`));
    const err = await verifyArchive(nix, recordingLog(), a.dir).catch((e) => e);
    expect(err.oneLine).toContain(m.fixedOutputs[0].path);
  });
});

describe('archive, scope runtime', () => {
  it('holds the outputs closure and verify restores it byte for byte', async () => {
    const paths = contentPaths(flake);
    const a = await createArchive(nix, recordingLog(), { installable: flake.installable('stream'), scope: 'runtime', dir: newDir() });
    const listed = a.manifest.paths.map((p) => p.path);
    expect(listed).toContain(a.manifest.outputs.out.path);
    for (const x of IMAGE_CONTENTS) expect(listed).toContain(paths[x]);
    expect(listed.some((p) => p.endsWith('.drv'))).toBe(false);
    const v = await verifyArchive(nix, recordingLog(), a.dir);
    expect(v.evaluatedDrvPath).toBeUndefined();
    expect(v.outputs[0].identical).toBe(true);
  });
});

describe('archive errors', () => {
  it('a missing flake, a missing attribute, a failing build', async () => {
    const one = async (installable: string, re: RegExp) => {
      const err = await createArchive(nix, recordingLog(), { installable, scope: 'build', dir: newDir() }).catch((e) => e);
      expect(err).toBeInstanceOf(UserError);
      expect(err.oneLine).toMatch(re);
      expect(err.oneLine).not.toMatch(/\n/);
    };
    await one(`path:/nonexistent-${salt()}#x`, /nix flake metadata .* failed/);
    const err = await createArchive(nix, recordingLog(), { installable: `path:/nonexistent-${salt()}#x`, scope: 'build', dir: newDir() }).catch((e) => e);
    expect(err.detail.split('\n').every((l: string) => l.startsWith('| '))).toBe(true);
    await one(flake.installable('no-such-attr'), /does not provide attribute/);
    await one(flake.installable('failing'), /FAILING-BUILD-MARKER/);
  });

  it('a non-empty or hostile path, a manifest that is not one', async () => {
    const d = newDir();
    mkdirSync(d);
    writeFileSync(join(d, 'x'), '');
    await expect(createArchive(nix, recordingLog(), { installable: flake.installable('hello'), scope: 'runtime', dir: d })).rejects.toThrow(
      /already exists and is not empty/,
    );
    await expect(
      createArchive(nix, recordingLog(), { installable: flake.installable('hello'), scope: 'runtime', dir: `${newDir()}?x=1` }),
    ).rejects.toThrow(/contains a control character, '\?', '#' or '%'/);
    await expect(createArchive(nix, recordingLog(), { installable: '/nix/store/00000000000000000000000000000000-x', scope: 'runtime', dir: newDir() })).rejects.toThrow(
      /is a store path, not a flake installable/,
    );
    await expect(verifyArchive(nix, recordingLog(), d)).rejects.toThrow(/has no readable manifest.json/);
  });
});
