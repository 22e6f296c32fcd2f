#!/usr/bin/env node
// Pushes the same image (40 layers, 320 MiB of incompressible data by default) to a
// local docker-registry with the publish bundle (Node 24, as the runner runs it) and
// with `skopeo copy`, in one run: a cold push to an empty registry, then a re-push
// where every blob is already there. Prints wall time, peak memory (VmHWM) and the
// ratio skopeo/ours (> 1 means we are faster).
//
//   node bench/publish.mjs [layers] [MiB]
//
// Two sources:
//   oci-layout (gzip layers)  both tools copy the blobs as they are: a like-for-like transfer.
//   docker-archive (plain)    what Nix builds; we push the layers as built, skopeo gzips
//                             them first (its default for a registry), as a Nix user would see.
// Disk: the images (~2 x size) and two registries live in one temp dir, removed at the end.
import { spawn, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

const root = new URL('..', import.meta.url).pathname;
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
const bundle = join(root, 'dist', 'publish', 'index.js');
const LAYERS = Number(process.argv[2] ?? 40);
const MIB = Number(process.argv[3] ?? 320);
const per = Math.floor((MIB * 1024 * 1024) / LAYERS);
for (const [p, what] of [[node24, 'npm ci (node@24)'], [bundle, 'node scripts/build.mjs publish']]) {
  if (!existsSync(p)) throw new Error(`${p} is missing: ${what}`);
}
for (const tool of ['skopeo', 'docker-registry']) execFileSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore' });

const work = mkdtempSync(join(tmpdir(), 'bench-publish-'));
const sha = (b) => createHash('sha256').update(b).digest('hex');
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function layerTar(i) {
  // One file of random bytes: a tar header, the data, padding, two end blocks.
  const data = randomBytes(per);
  const h = Buffer.alloc(512); // a ustar header, written by hand to keep the bench free of extra copies
  h.write(`data/blob-${i}`, 0, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(per.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000001\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  const pad = Buffer.alloc((512 - (per % 512)) % 512);
  return Buffer.concat([h, data, pad, Buffer.alloc(1024)]);
}

async function makeImages() {
  const oci = join(work, 'oci');
  mkdirSync(join(oci, 'blobs', 'sha256'), { recursive: true });
  const dockerTar = join(work, 'image.tar');
  const pack = tar.pack();
  const out = createWriteStream(dockerTar);
  const done = new Promise((r, j) => out.on('finish', r).on('error', j));
  pack.pipe(out);
  const entry = (name, buf) => new Promise((r, j) => pack.entry({ name, size: buf.length, mtime: new Date(1000) }, buf, (e) => (e ? j(e) : r())));
  const diffIds = [];
  const gzLayers = [];
  const names = [];
  for (let i = 0; i < LAYERS; i++) {
    const t = layerTar(i);
    const d = sha(t);
    diffIds.push(`sha256:${d}`);
    await entry(`${d}/layer.tar`, t);
    names.push(`${d}/layer.tar`);
    const gz = gzipSync(t, { level: 1 });
    const g = sha(gz);
    writeFileSync(join(oci, 'blobs', 'sha256', g), gz);
    gzLayers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${g}`, size: gz.length });
  }
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const c = sha(config);
  await entry(`${c}.json`, config);
  await entry('manifest.json', Buffer.from(JSON.stringify([{ Config: `${c}.json`, RepoTags: ['bench:latest'], Layers: names }])));
  pack.finalize();
  await done;
  writeFileSync(join(oci, 'blobs', 'sha256', c), config);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${c}`, size: config.length }, layers: gzLayers }));
  const m = sha(manifest);
  writeFileSync(join(oci, 'blobs', 'sha256', m), manifest);
  writeFileSync(join(oci, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${m}`, size: manifest.length }] }));
  writeFileSync(join(oci, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return { oci, dockerTar, ociDigest: `sha256:${m}`, ociLayers: gzLayers.map((l) => l.digest), dockerLayers: diffIds };
}

async function freePort() {
  return new Promise((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => r(port));
    });
  });
}

async function startRegistry(name) {
  const dir = join(work, `registry-${name}`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const host = `127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://${host}/v2/`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a program to completion, sampling its peak resident memory (VmHWM) from /proc. */
async function measure(cmd, args, env) {
  const t0 = process.hrtime.bigint();
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  let peak = 0;
  const sample = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
    } catch {}
  };
  const timer = setInterval(sample, 20);
  const code = await new Promise((r) => child.on('exit', (c) => (sample(), r(c))));
  clearInterval(timer);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${code}):\n${out.slice(-3000)}`);
  return { seconds, peak, out };
}

/** A step output from a GITHUB_OUTPUT file: `name=value` or the `name<<DELIMITER` form @actions/core writes. */
function outputOf(text, name) {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith(`${name}=`)) return lines[i].slice(name.length + 1);
    if (lines[i].startsWith(`${name}<<`)) {
      const end = lines.indexOf(lines[i].slice(name.length + 2), i + 1);
      return lines.slice(i + 1, end).join('\n');
    }
  }
  return undefined;
}

function ours(image, host, repo) {
  const dir = mkdtempSync(join(work, 'runner-'));
  for (const f of ['output', 'summary', 'env', 'path', 'state']) writeFileSync(join(dir, f), '');
  writeFileSync(join(dir, 'event.json'), '{}');
  const env = {
    PATH: process.env.PATH,
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_PATH: join(dir, 'path'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
    GITHUB_REPOSITORY: 'bench/bench',
    RUNNER_TEMP: dir,
    INPUT_IMAGE: image,
    INPUT_REGISTRY: host,
    INPUT_REPOSITORY: repo,
    INPUT_TAGS: 'v1',
    INPUT_LABELS: 'none',
    INPUT_ANNOTATIONS: 'none',
    'INPUT_PLAIN-HTTP': 'true',
  };
  return measure(node24, [bundle], env).then((r) => ({ ...r, digest: outputOf(readFileSync(join(dir, 'output'), 'utf8'), 'digest') }));
}

/**
 * What we timed must be what landed: skopeo reads the pushed image back and its
 * digest must be the one our step reported (and, where the source fixes it, the
 * one built), its layers the ones built.
 */
function checkPushed(host, repo, run, expected) {
  const info = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${host}/${repo}:v1`], { encoding: 'utf8' }));
  if (!run.digest || info.Digest !== run.digest) throw new Error(`skopeo reads ${host}/${repo}:v1 as ${info.Digest}, our step reported ${run.digest}`);
  if (expected.digest && info.Digest !== expected.digest) throw new Error(`pushed ${info.Digest}, built ${expected.digest}`);
  if (JSON.stringify(info.Layers) !== JSON.stringify(expected.layers)) throw new Error(`skopeo reads other layers than were built in ${host}/${repo}:v1`);
  return info.Digest;
}

function skopeo(src, host, repo) {
  return measure('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', src, `docker://${host}/${repo}:v1`], process.env);
}

const mib = (b) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
const rows = [];
async function compare(label, oursImage, skopeoSrc, expected) {
  for (const [tool, fn] of [
    ['ours', async (h) => {
      const r = await ours(oursImage, h, 'bench/ours');
      r.checked = checkPushed(h, 'bench/ours', r, expected);
      return r;
    }],
    ['skopeo', (h) => skopeo(skopeoSrc, h, 'bench/skopeo')],
  ]) {
    const reg = await startRegistry(tool);
    try {
      const cold = await fn(reg.host);
      const warm = await fn(reg.host);
      rows.push({ label, tool, cold, warm });
      console.log(`${label.padEnd(26)} ${tool.padEnd(7)} cold ${cold.seconds.toFixed(2).padStart(6)} s  re-push ${warm.seconds.toFixed(2).padStart(6)} s  peak ${mib(Math.max(cold.peak, warm.peak)).padStart(8)}`);
      if (cold.checked) console.log(`${label.padEnd(26)} ${tool.padEnd(7)} skopeo inspect: ${cold.checked} after the cold push and the re-push, layers as built`);
    } finally {
      await reg.stop();
    }
  }
  const o = rows.find((r) => r.label === label && r.tool === 'ours');
  const s = rows.find((r) => r.label === label && r.tool === 'skopeo');
  console.log(`${label.padEnd(26)} ratio skopeo/ours: cold ${(s.cold.seconds / o.cold.seconds).toFixed(2)}x, re-push ${(s.warm.seconds / o.warm.seconds).toFixed(2)}x (> 1: ours is faster)`);
}

try {
  const t = Date.now();
  const { oci, dockerTar, ociDigest, ociLayers, dockerLayers } = await makeImages();
  console.log(`image: ${LAYERS} layers x ${mib(per)} = ${mib(per * LAYERS)} of random data (made in ${((Date.now() - t) / 1000).toFixed(1)} s); node ${execFileSync(node24, ['--version'], { encoding: 'utf8' }).trim()}, ${execFileSync('skopeo', ['--version'], { encoding: 'utf8' }).trim()}`);
  await compare('oci-layout (gzip layers)', oci, `oci:${oci}`, { digest: ociDigest, layers: ociLayers });
  await compare('docker-archive (as built)', dockerTar, `docker-archive:${dockerTar}`, { layers: dockerLayers });
} finally {
  rmSync(work, { recursive: true, force: true });
}
