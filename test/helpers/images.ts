import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { nixEnv, salt as newSalt, writeFlake } from './nix.js';

/**
 * Test flakes that produce REAL container images, with no nixpkgs: packages are
 * `builtins.derivation`s run by /bin/sh, and the images are laid out by
 * test/helpers/mkimage.sh (tar, gzip, zstd, sha256sum, printf) the way nixpkgs'
 * dockerTools and nix2container lay them out: one uncompressed layer tar per store
 * path of the content closure, holding `nix/store/<hash>-<name>/...`.
 *
 * The known graph (every flake from `writeImageFlake`, salted so store paths are
 * unique to the test run):
 *
 *   hello-2.12.1  --references-->  libfoo-1.2.3  --references-->  zlib-1.3.1
 *   cacert-3.98   (no references)
 *
 * Image contents are the closure of [hello, cacert]: exactly these four paths, one
 * layer each, in the order hello, libfoo, zlib, cacert (see IMAGE_CONTENTS). The
 * image's Cmd is `<hello>/bin/hello`.
 *
 * Attributes (under packages.<system> and as `.#<attr>`):
 *   devcontainer        docker-archive, gzip   (like buildLayeredImage's default)
 *   docker-archive      docker-archive, uncompressed (.tar)
 *   docker-archive-gz   docker-archive, gzip   (.tar.gz)
 *   docker-archive-zst  docker-archive, zstd   (.tar.zst)
 *   stream              stream script: an executable writing an uncompressed
 *                       docker-archive to stdout; it references the content paths
 *   oci-dir             OCI image layout directory (gzip layers)
 *   oci-archive         the same layout as a tar file
 *   nix2container       nix2container-style image JSON (layers name store paths)
 *   hello, libfoo, zlib, cacert   the packages themselves
 *   not-an-image        a plain text file (a build that is no image)
 *   failing             a build that fails, printing FAILING-BUILD-MARKER
 *
 * Building uses the host tools on PATH (sandbox is off in NIX_TEST_CONF).
 * Checked by test/integration/images-helper.test.ts with skopeo. Note: skopeo 1.9
 * (Debian) cannot read a COMPRESSED docker-archive ("loading tar component
 * manifest.json: unexpected EOF"); decompress first (gzip -dc / zstd -dc).
 *
 * Usage:
 *   const flake = writeImageFlake();
 *   const image = buildOut(flake.installable('docker-archive-gz'));
 *   const paths = contentPaths(flake); // { hello, libfoo, zlib, cacert } -> store paths
 */

export interface TestPackage {
  attr: string;
  /** Package name as parseStorePath reads it from the store path. */
  name: string;
  version: string;
  /** Attributes of the packages it references at runtime. */
  references: string[];
}

export const IMAGE_PACKAGES: readonly TestPackage[] = [
  { attr: 'hello', name: 'hello', version: '2.12.1', references: ['libfoo'] },
  { attr: 'libfoo', name: 'libfoo', version: '1.2.3', references: ['zlib'] },
  { attr: 'zlib', name: 'zlib', version: '1.3.1', references: [] },
  { attr: 'cacert', name: 'cacert', version: '3.98', references: [] },
];

/** The attributes whose outputs are the image's layers, in layer order. */
export const IMAGE_CONTENTS = ['hello', 'libfoo', 'zlib', 'cacert'] as const;

/** The image-format each image attribute should be reported as by the build action. */
export const IMAGE_ATTRS = {
  devcontainer: 'docker-archive+gzip',
  'docker-archive': 'docker-archive',
  'docker-archive-gz': 'docker-archive+gzip',
  'docker-archive-zst': 'docker-archive+zstd',
  stream: 'stream-script',
  'oci-dir': 'oci-layout',
  'oci-archive': 'oci-archive',
  nix2container: 'nix2container',
} as const;

export type ImageAttr = keyof typeof IMAGE_ATTRS;

export interface ImageFlake {
  dir: string;
  /** `path:<dir>`: the flake reference to build from. */
  ref: string;
  salt: string;
  /** Repository name and tag written into the images (RepoTags / ref.name). */
  imageName: string;
  imageTag: string;
  /** `installable('stream')` -> `path:<dir>#stream` */
  installable(attr: string): string;
}

const MKIMAGE = readFileSync(new URL('./mkimage.sh', import.meta.url), 'utf8');

export const ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';

/** Nix text of the image derivations over `contents` (a Nix list expression). */
function imageAttrs(contents: string, cmd: string): string {
  const img = (name: string, format: string, compress = 'none') =>
    `mkWith { name = "${name}"; args = [ ./mkimage.sh ]; format = "${format}"; compress = "${compress}"; contents = ${contents}; inherit salt imageName imageTag arch; cmd = ${cmd}; }`;
  return `
      "docker-archive" = ${img('devcontainer.tar', 'docker-archive')};
      "docker-archive-gz" = ${img('devcontainer.tar.gz', 'docker-archive', 'gzip')};
      "docker-archive-zst" = ${img('devcontainer.tar.zst', 'docker-archive', 'zstd')};
      devcontainer = ${img('devcontainer.tar.gz', 'docker-archive', 'gzip')};
      stream = ${img('stream-devcontainer', 'stream')};
      "oci-dir" = ${img('devcontainer-oci', 'oci-dir')};
      "oci-archive" = ${img('devcontainer-oci.tar', 'oci-archive')};
      nix2container = ${img('image-devcontainer.json', 'nix2container')};`;
}

/**
 * Writes the image test flake (see the graph above) and returns where it is.
 * Nothing is built until a test builds it.
 */
export function writeImageFlake(options: { salt?: string; dir?: string; imageName?: string; imageTag?: string } = {}): ImageFlake {
  const s = options.salt ?? newSalt();
  const imageName = options.imageName ?? 'devcontainer';
  const imageTag = options.imageTag ?? `test-${s}`;
  const body = `let
    salt = "${s}";
    imageName = "${imageName}";
    imageTag = "${imageTag}";
    arch = "${ARCH}";
    pkg = name: extra: script: mkWith ({ inherit name salt; args = [ "-c" script ]; } // extra);
    zlib = pkg "zlib-1.3.1" {} "mkdir -p $out/lib && echo 'zlib 1.3.1' > $out/lib/libz.txt";
    libfoo = pkg "libfoo-1.2.3" { inherit zlib; } "mkdir -p $out/lib && echo \\"libfoo 1.2.3 linked against $zlib/lib/libz.txt\\" > $out/lib/libfoo.txt";
    hello = pkg "hello-2.12.1" { inherit libfoo; } "mkdir -p $out/bin && printf '#!/bin/sh\\\\n# uses %s\\\\necho Hello, world!\\\\n' $libfoo/lib/libfoo.txt > $out/bin/hello && chmod +x $out/bin/hello";
    cacert = pkg "cacert-3.98" {} "mkdir -p $out/etc/ssl/certs && echo 'not a real bundle' > $out/etc/ssl/certs/ca-bundle.crt";
    packages = {
      inherit hello libfoo zlib cacert;
      ${imageAttrs('[ hello libfoo zlib cacert ]', '"${hello}/bin/hello"')}
      "not-an-image" = pkg "readme-1.0" {} "echo 'just text' > $out";
      failing = pkg "failing-1.0" {} "echo FAILING-BUILD-MARKER: the build script failed >&2; exit 3";
    };
  in { packages.\${system} = packages; }`;
  const dir = writeFlake(body, { dir: options.dir, files: { 'mkimage.sh': MKIMAGE } });
  return flakeHandle(dir, s, imageName, imageTag);
}

function flakeHandle(dir: string, s: string, imageName: string, imageTag: string): ImageFlake {
  const ref = `path:${dir}`;
  return { dir, ref, salt: s, imageName, imageTag, installable: (attr) => `${ref}#${attr}` };
}

/**
 * A bigger image for benchmarks: `layers` packages `pkg<i>-1.0.<i>` of about
 * `bytes / layers` random bytes each, one layer per package, with the same
 * image attributes as writeImageFlake (docker-archive, -gz, -zst, stream, oci-dir...).
 */
export function writeBigImageFlake(options: { layers: number; bytes: number; salt?: string; dir?: string }): ImageFlake {
  const s = options.salt ?? newSalt();
  const per = Math.max(1, Math.floor(options.bytes / options.layers));
  const names = Array.from({ length: options.layers }, (_, i) => `p${i}`);
  const body = `let
    salt = "${s}";
    imageName = "bench";
    imageTag = "bench-${s}";
    arch = "${ARCH}";
    pkg = name: script: mkWith { inherit name salt; args = [ "-c" script ]; };
    ${names.map((n, i) => `${n} = pkg "pkg${i}-1.0.${i}" "mkdir -p $out/share && head -c ${per} /dev/urandom > $out/share/data";`).join('\n    ')}
    packages = {
      ${imageAttrs(`[ ${names.join(' ')} ]`, '"/bin/sh"')}
    };
  in { packages.\${system} = packages; }`;
  const dir = writeFlake(body, { dir: options.dir, files: { 'mkimage.sh': MKIMAGE } });
  return flakeHandle(dir, s, 'bench', `bench-${s}`);
}

/** Builds `installable` with the test Nix config and returns its `out` path (no GC root). */
export function buildOut(installable: string): string {
  const json = execFileSync('nix', ['build', '--json', '--no-link', installable], { env: nixEnv(), encoding: 'utf8' });
  return (JSON.parse(json) as { outputs: { out: string } }[])[0].outputs.out;
}

/** Out paths of the image's content packages, keyed by attribute (builds them). */
export function contentPaths(flake: ImageFlake): Record<string, string> {
  const json = execFileSync(
    'nix',
    ['build', '--json', '--no-link', ...IMAGE_CONTENTS.map((a) => flake.installable(a))],
    { env: nixEnv(), encoding: 'utf8' },
  );
  // `nix build --json` does not keep the installables' order: match by package name.
  const outs = (JSON.parse(json) as { outputs: { out: string } }[]).map((e) => e.outputs.out);
  const byName = (name: string) => outs.find((o) => new RegExp(`^/nix/store/[a-z0-9]{32}-${name}-[0-9]`).test(o));
  return Object.fromEntries(
    IMAGE_PACKAGES.filter((p) => (IMAGE_CONTENTS as readonly string[]).includes(p.attr)).map((p) => [p.attr, byName(p.name)!]),
  );
}
