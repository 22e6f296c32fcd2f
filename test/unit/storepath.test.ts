import { parseDrvName, parseStorePath, isStorePath, absoluteStorePath } from '../../src/nix/storepath.js';

const H = '0c8nf26hq4zhfs0mzmn5bwdxqwcm3wyd';

describe('parseDrvName (builtins.parseDrvName semantics)', () => {
  it.each([
    ['python3-3.12.4', 'python3', '3.12.4'],
    ['hello-2.12.1', 'hello', '2.12.1'],
    ['glibc-2.40-66', 'glibc', '2.40-66'],
    ['source', 'source', ''],
    ['nix-2.24.10', 'nix', '2.24.10'],
    ['gcc-wrapper-13.3.0', 'gcc-wrapper', '13.3.0'],
    ['perl5.38.2-URI-5.21', 'perl5.38.2-URI', '5.21'],
    ['xz-5.6.2-bin', 'xz', '5.6.2-bin'],
    ['linux-headers-6.6', 'linux-headers', '6.6'],
    ['openssl-3.0.14', 'openssl', '3.0.14'],
    ['foo-unstable-2024-01-01', 'foo', 'unstable-2024-01-01'],
    ['bar-0-unstable-2024-05-30', 'bar', '0-unstable-2024-05-30'],
    ['docker-image-devcontainer.tar.gz', 'docker-image-devcontainer.tar.gz', ''],
  ])('%s -> %s / %s', (input, name, version) => {
    expect(parseDrvName(input)).toEqual({ name, version });
  });
});

describe('parseStorePath', () => {
  it.each([
    [`/nix/store/${H}-python3-3.12.4`, 'python3', '3.12.4', 'out'],
    [`/nix/store/${H}-glibc-2.40-66-bin`, 'glibc', '2.40-66', 'bin'],
    [`/nix/store/${H}-glibc-2.40-66`, 'glibc', '2.40-66', 'out'],
    [`/nix/store/${H}-openssl-3.0.14-dev`, 'openssl', '3.0.14', 'dev'],
    [`/nix/store/${H}-foo-unstable-2024-01-01`, 'foo', 'unstable-2024-01-01', 'out'],
    [`/nix/store/${H}-source`, 'source', '', 'out'],
    [`/nix/store/${H}-libidn2-2.3.7-man`, 'libidn2', '2.3.7', 'man'],
    [`/nix/store/${H}-rc-1.0-rc1`, 'rc', '1.0-rc1', 'out'],
  ])('%s', (path, name, version, output) => {
    const p = parseStorePath(path);
    expect([p.name, p.version, p.output, p.hash]).toEqual([name, version, output, H]);
  });

  it('recognises derivations and keeps their outputs unsplit', () => {
    const p = parseStorePath(`/nix/store/${H}-glibc-2.40-66.drv`);
    expect(p).toMatchObject({ isDrv: true, name: 'glibc', version: '2.40-66', output: 'out' });
  });

  it('accepts bare base names (derivation JSON v3+)', () => {
    expect(parseStorePath(`${H}-hello-2.12.1`).path).toBe(`/nix/store/${H}-hello-2.12.1`);
    expect(absoluteStorePath(`${H}-x`)).toBe(`/nix/store/${H}-x`);
  });

  it.each(['/nix/store/short-name', '/tmp/x', `/nix/store/${H}`, `/nix/store/${H}-a/b`, `/nix/store/${H.replace('0', 'e')}-x`])(
    'rejects %s with a clear error',
    (bad) => {
      expect(() => parseStorePath(bad)).toThrow(/is not a Nix store path/);
      expect(isStorePath(bad)).toBe(false);
    },
  );
});
