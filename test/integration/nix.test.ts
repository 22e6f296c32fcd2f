import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Nix, NixError, build, pathInfo, closure, showDerivations, parseStorePath, parseNixHash, toHex, toNix32, toSri } from '../../src/nix/index.js';
import { nixEnv, writeFlake, salt } from '../helpers/nix.js';

/** Real Nix (Debian's nix-bin) on an offline flake: a known graph of three derivations. */
describe('nix core against real Nix', () => {
  const env = nixEnv();
  const s = salt();
  const flake = writeFlake(`rec {
    packages.\${system} = rec {
      lib = mk "libfoo-1.2.3" "echo ${s} > $out";
      tool = mk "tool-0.9" "mkdir -p $out/bin; echo \${lib} > $out/bin/tool";
      default = mk "app-2.0.1" "mkdir -p $out; echo \${tool} > $out/ref";
      broken = mk "broken-1" "echo the build went wrong >&2; exit 3";
    };
  }`);
  let nix: Nix;

  beforeAll(async () => {
    nix = await Nix.detect({ env });
  });

  it('detects the version and picks the derivation command for it', () => {
    expect(nix.version).toMatch(/^\d+\.\d+/);
    const expected = nix.atLeast('2.15.0') ? ['derivation', 'show'] : ['show-derivation'];
    expect(nix.derivationShowCommand()).toEqual(expected);
  });

  it('builds an installable and lists its closure with references', async () => {
    const [built] = await build(nix, [`path:${flake}#default`]);
    expect(parseStorePath(built.drvPath)).toMatchObject({ name: 'app', version: '2.0.1', isDrv: true });
    const out = built.outputs.out;
    const infos = await closure(nix, [out]);
    const names = [...infos.values()].map((i) => parseStorePath(i.path).fullName).sort();
    expect(names).toEqual(['app-2.0.1', 'libfoo-1.2.3', 'tool-0.9']);
    const app = infos.get(out)!;
    const tool = [...infos.keys()].find((p) => p.endsWith('-tool-0.9'))!;
    expect(app.references).toEqual([tool]);
    expect(app.deriver).toBe(built.drvPath);
    expect(app.narSize).toBeGreaterThan(0);
  });

  it('reads narHash in a spelling we convert exactly as Nix does', async () => {
    const [built] = await build(nix, [`path:${flake}#lib`]);
    const [info] = await pathInfo(nix, [built.outputs.out]);
    const parsed = parseNixHash(info.narHash);
    const dump = execFileSync('nix-store', ['--dump', built.outputs.out], { env });
    expect(toHex(parsed)).toBe(createHash('sha256').update(dump).digest('hex'));
    const viaNix = execFileSync('nix', ['hash', 'to-sri', '--type', 'sha256', toNix32(parsed).split(':')[1]], { env, encoding: 'utf8' }).trim();
    expect(toSri(parsed)).toBe(viaNix);
  });

  it('shows the derivation graph recursively in one shape', async () => {
    const drvs = await showDerivations(nix, [`path:${flake}#default`], { recursive: true });
    const byName = new Map([...drvs.values()].map((d) => [d.name, d]));
    expect([...byName.keys()].sort()).toEqual(['app-2.0.1', 'libfoo-1.2.3', 'tool-0.9']);
    const app = byName.get('app-2.0.1')!;
    expect(Object.values(app.inputDrvs)).toEqual([['out']]);
    expect(Object.keys(app.inputDrvs)[0]).toBe(byName.get('tool-0.9')!.drvPath);
    expect(app.outputs.out.path).toMatch(/^\/nix\/store\/[a-z0-9]{32}-app-2\.0\.1$/);
    expect(app.env.name).toBe('app-2.0.1');
  });

  it('a failing build is one clear error carrying the tail of the log', async () => {
    const err: NixError = await build(nix, [`path:${flake}#broken`]).catch((e) => e);
    expect(err).toBeInstanceOf(NixError);
    expect(err.oneLine).toMatch(/^nix build .* failed \(exit 1\): builder for .*broken-1\.drv' failed/);
    expect(err.oneLine).not.toContain('\n');
    expect(err.detail).toContain('the build went wrong');
  });

  it('a missing attribute names it', async () => {
    const err: NixError = await build(nix, [`path:${flake}#nope`]).catch((e) => e);
    expect(err).toBeInstanceOf(NixError);
    expect(err.message).toMatch(/does not provide attribute .*nope/);
  });

  it('an installable that looks like a flag stays an installable', async () => {
    const err: NixError = await build(nix, ['--option']).catch((e) => e);
    expect(err).toBeInstanceOf(NixError);
    expect(err.result.stderr).not.toMatch(/unrecognised flag|requires an argument/);
  });

  it('says how to fix a missing Nix', async () => {
    const err = await Nix.detect({ bin: 'nix-not-installed-here' }).catch((e) => e);
    expect(err.oneLine).toBe(
      "Nix is not installed ('nix-not-installed-here' not found). Add vig-os/nix-actions/install-nix@v1 as an earlier step",
    );
  });
});
