import { UserError } from '../errors.js';
import { formatBytes } from '../markdown.js';
import type { Log } from '../log.js';
import { sha256 } from './digest.js';
import type { SourceImage } from './image.js';
import { MEDIA, type Descriptor, type ImageIndex, type ImageManifest, type Platform } from './media.js';
import { pool } from './pool.js';
import { UploadLost, type Registry } from './registry.js';
import { Readable } from 'node:stream';

/**
 * Pushes an image: every blob first (skipping what the registry has, mounting
 * what another repository has), then - only once every blob is confirmed - the
 * manifest by digest, read back and checked, and only then the tags. A failure
 * at any point leaves no tag pointing at a half-pushed image.
 */
export type BlobStatus = 'pushed' | 'skipped' | 'mounted';

export interface BlobReport extends Descriptor {
  role: 'config' | 'layer';
  status: BlobStatus;
}

export interface PushResult {
  digest: string;
  mediaType: string;
  manifest: Buffer;
  tags: string[];
  blobs: BlobReport[];
  bytesPushed: number;
  bytesSkipped: number;
  bytesMounted: number;
  seconds: number;
  retries: number;
}

export interface PushOptions {
  repository: string;
  tags: string[];
  /** Config bytes to push instead of the image's own (labels added). */
  config?: Buffer;
  /** Manifest annotations; undefined or empty keeps the manifest as built where possible. */
  annotations?: Record<string, string>;
  /** Repositories of the same registry to mount blobs from. */
  mountFrom?: string[];
  /** Blobs in flight at once (default 4). */
  concurrency?: number;
  log: Log;
}

export function buildManifest(image: SourceImage, config: Buffer, annotations: Record<string, string> | undefined): { bytes: Buffer; mediaType: string } {
  const hasAnnotations = annotations && Object.keys(annotations).length > 0;
  if (image.manifest && config.equals(image.config) && !hasAnnotations) {
    return { bytes: image.manifest.bytes, mediaType: image.manifest.mediaType };
  }
  const configDesc = { mediaType: image.configMediaType, digest: sha256(config), size: config.length };
  if (image.manifest) {
    // Keep everything of the built manifest but the config descriptor and annotations.
    const m = JSON.parse(image.manifest.bytes.toString('utf8')) as ImageManifest;
    m.config = { ...m.config, digest: configDesc.digest, size: configDesc.size };
    if (hasAnnotations) m.annotations = { ...m.annotations, ...annotations };
    return { bytes: Buffer.from(JSON.stringify(m)), mediaType: image.manifest.mediaType };
  }
  const m: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: configDesc,
    layers: image.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  };
  if (hasAnnotations) m.annotations = annotations;
  return { bytes: Buffer.from(JSON.stringify(m)), mediaType: MEDIA.ociManifest };
}

async function placeBlob(reg: Registry, repo: string, digest: string, mountFrom: string[]): Promise<BlobStatus | undefined> {
  if (await reg.hasBlob(repo, digest)) return 'skipped';
  for (const from of mountFrom) {
    if (from !== repo && (await reg.mountBlob(repo, digest, from))) return 'mounted';
  }
  return undefined;
}

/** Writes a manifest by digest, reads it back to check it, then points each tag at it. */
export async function publishManifest(
  reg: Registry,
  repo: string,
  bytes: Buffer,
  mediaType: string,
  tags: string[],
  log: Log,
): Promise<string> {
  const digest = await reg.putManifest(repo, sha256(bytes), bytes, mediaType);
  const back = await reg.getManifest(repo, digest);
  if (!back || back.digest !== digest) {
    throw new UserError(`${reg.host} returned ${back ? back.digest : 'nothing'} when asked for the manifest just pushed (${digest})`, {
      hint: 'The registry did not keep what was pushed; nothing was tagged',
    });
  }
  // A registry writes one tag per request: when one fails, the error says which
  // tags already point at the new digest and which still hold what they held.
  const moved: string[] = [];
  for (const [i, tag] of tags.entries()) {
    try {
      await reg.putManifest(repo, tag, bytes, mediaType);
      const tagged = await reg.getManifest(repo, tag);
      if (!tagged || tagged.digest !== digest) {
        throw new UserError(`tag ${tag} in ${repo} points at ${tagged?.digest ?? 'nothing'} instead of ${digest}`, {
          hint: 'Another job may be pushing the same tag; re-run',
        });
      }
    } catch (e) {
      if (!(e instanceof UserError) || tags.length < 2) throw e;
      const notMoved = tags.slice(i);
      throw new UserError(
        `${e.message}; tags moved to ${digest}: ${moved.length ? moved.join(', ') : 'none'}; tags not moved: ${notMoved.join(', ')}`,
        { hint: `${e.hint ? `${e.hint}. ` : ''}Re-run to move the rest; the image itself is pushed (${reg.host}/${repo}@${digest})`, detail: e.detail, cause: e },
      );
    }
    moved.push(tag);
    log.info(`Tagged ${reg.host}/${repo}:${tag} -> ${digest}`);
  }
  return digest;
}

export async function pushImage(reg: Registry, image: SourceImage, o: PushOptions): Promise<PushResult> {
  const started = Date.now();
  const repo = o.repository;
  const retriesBefore = reg.retried;
  const config = o.config ?? image.config;
  await reg.ping(repo);

  const configDesc: Descriptor = { mediaType: image.configMediaType, digest: sha256(config), size: config.length };
  const reports = new Map<string, BlobReport>();
  const layerByDigest = new Map<string, SourceImage['layers'][number]>();
  for (const l of image.layers) {
    if (!layerByDigest.has(l.digest)) layerByDigest.set(l.digest, l);
  }
  const mountFrom = o.mountFrom ?? [];
  const concurrency = o.concurrency ?? 4;

  // Decide per blob: the registry has it, another repository lends it, or it is pushed.
  const all: { desc: Descriptor; role: 'config' | 'layer' }[] = [
    { desc: configDesc, role: 'config' },
    ...[...layerByDigest.values()].map((l) => ({ desc: { mediaType: l.mediaType, digest: l.digest, size: l.size }, role: 'layer' as const })),
  ];
  const missing: typeof all = [];
  const manifest = buildManifest(image, config, o.annotations);
  // A registry stores a manifest only once it holds every blob the manifest names:
  // when it already has this very manifest, one request answers for all of them.
  const known = await reg.getManifest(repo, sha256(manifest.bytes));
  if (known && known.digest === sha256(manifest.bytes)) {
    for (const b of all) reports.set(b.desc.digest, { ...b.desc, role: b.role, status: 'skipped' });
  } else await pool(all, 8, async (b) => {
    const status = await placeBlob(reg, repo, b.desc.digest, mountFrom);
    if (status) reports.set(b.desc.digest, { ...b.desc, role: b.role, status });
    else missing.push(b);
  });

  const upload = async (b: (typeof all)[number], body: Parameters<Registry['uploadBlob']>[2]) => {
    o.log.info(`Pushing ${b.role} ${b.desc.digest} (${formatBytes(b.desc.size)})`);
    await reg.uploadBlob(repo, b.desc, body);
    reports.set(b.desc.digest, { ...b.desc, role: b.role, status: 'pushed' });
  };
  const missingConfig = missing.find((b) => b.role === 'config');
  if (missingConfig) await upload(missingConfig, { open: (s) => Readable.from([config.subarray(s)]) });
  const missingLayers = missing.filter((b) => b.role === 'layer');
  if (missingLayers.length && image.reader.open) {
    const open = image.reader.open;
    // Largest first keeps the tail of the push short.
    missingLayers.sort((a, b) => b.desc.size - a.desc.size);
    await pool(missingLayers, concurrency, (b) => upload(b, { open: (s) => open(layerByDigest.get(b.desc.digest)!.entry, s) }));
  } else if (missingLayers.length) {
    const byEntry = new Map(missingLayers.map((b) => [layerByDigest.get(b.desc.digest)!.entry, b]));
    // A one-shot stream cannot seek back: when the registry drops an upload session
    // mid-stream, read the source again for the layers still missing.
    for (let pass = 1; ; pass++) {
      const wanted = new Set([...byEntry].filter(([, b]) => !reports.has(b.desc.digest)).map(([e]) => e));
      try {
        await image.reader.replay!(wanted, async (entry, stream) => {
          const b = byEntry.get(entry)!;
          if (!reports.has(b.desc.digest)) await upload(b, { stream });
        });
        break;
      } catch (e) {
        if (!(e instanceof UploadLost) || pass >= 3) throw e;
        o.log.info(`${e.message}; reading ${image.path} again (pass ${pass + 1} of 3)`);
      }
    }
    const lost = missingLayers.filter((b) => !reports.has(b.desc.digest));
    if (lost.length) throw new UserError(`the second read of ${image.path} did not contain layer ${lost[0].desc.digest}`, { hint: 'The image stream is not deterministic; rebuild it' });
  }

  // Nothing is tagged until the registry confirms it holds every blob it was sent
  // (the ones it reported having were confirmed by the HEAD that skipped them).
  const sent = all.filter((b) => reports.get(b.desc.digest)?.status !== 'skipped');
  await pool(sent, 8, async (b) => {
    if (!(await reg.hasBlob(repo, b.desc.digest))) {
      throw new UserError(`${reg.host} does not hold ${b.role} ${b.desc.digest} after the upload; nothing was tagged`, { hint: 'Re-run the job' });
    }
  });

  const digest = await publishManifest(reg, repo, manifest.bytes, manifest.mediaType, o.tags, o.log);
  const blobs = all.map((b) => reports.get(b.desc.digest)!);
  const sum = (s: BlobStatus) => blobs.filter((b) => b.status === s).reduce((n, b) => n + b.size, 0);
  return {
    digest,
    mediaType: manifest.mediaType,
    manifest: manifest.bytes,
    tags: o.tags,
    blobs,
    bytesPushed: sum('pushed'),
    bytesSkipped: sum('skipped'),
    bytesMounted: sum('mounted'),
    seconds: (Date.now() - started) / 1000,
    retries: reg.retried - retriesBefore,
  };
}

function parseJsonOr<T>(bytes: Buffer, fail: () => Error): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw fail();
  }
}

export interface IndexChild {
  ref: string;
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
  platform: Platform;
  copied: boolean;
}

/** `sha256:...`, `repo@sha256:...`, `host/repo@sha256:...`, `repo:tag` or `host/repo:tag`. */
export function parseChildRef(ref: string, registryHost: string, repo: string): { repository: string; reference: string } {
  const r = ref.trim();
  if (/^sha256:[a-f0-9]{64}$/.test(r)) return { repository: repo, reference: r };
  let rest = r;
  const first = r.split('/')[0];
  if (r.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (first !== registryHost) {
      throw new UserError(`index child '${r}' is on ${first}, not on ${registryHost}`, { hint: 'Publish every arch to the same registry as the index' });
    }
    rest = r.slice(first.length + 1);
  }
  const at = rest.indexOf('@');
  if (at >= 0) {
    const digest = rest.slice(at + 1);
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new UserError(`index child '${r}' has a malformed digest`, { hint: 'Use repository@sha256:<64 hex digits>' });
    return { repository: rest.slice(0, at) || repo, reference: digest };
  }
  const colon = rest.lastIndexOf(':');
  if (colon > 0 && !rest.slice(colon).includes('/')) return { repository: rest.slice(0, colon), reference: rest.slice(colon + 1) };
  throw new UserError(`index child '${r}' is neither a digest nor a reference`, {
    hint: "Pass each arch's digest output (sha256:...) or image-ref (registry/repository@sha256:...)",
  });
}

export async function pushIndex(
  reg: Registry,
  o: { repository: string; children: string[]; tags: string[]; annotations?: Record<string, string>; log: Log },
): Promise<PushResult & { children: IndexChild[] }> {
  const started = Date.now();
  const retriesBefore = reg.retried;
  const repo = o.repository;
  if (o.children.length === 0) throw new UserError("the 'index' input lists no images");
  await reg.ping(repo);
  const children: IndexChild[] = [];
  let bytesMounted = 0;
  for (const ref of o.children) {
    const { repository, reference } = parseChildRef(ref, reg.host, repo);
    const got = await reg.getManifest(repository, reference);
    if (!got) {
      throw new UserError(`refusing to publish the index: ${reg.host}/${repository} has no image ${reference} (from '${ref}')`, {
        hint: 'Publish every arch first and pass their digest outputs to index',
      });
    }
    const notImage = (why: string) =>
      new UserError(`index child '${ref}' is not a container image: ${why}`, { hint: "List only the images the per-arch publish steps pushed (their 'digest' outputs)" });
    const m = parseJsonOr<ImageManifest & { manifests?: unknown }>(got.bytes, () => notImage('its manifest is not JSON'));
    if (m.manifests) throw new UserError(`index child '${ref}' is itself an index; list its images instead`);
    if (!m.config || typeof m.config.digest !== 'string' || !Array.isArray(m.layers)) throw notImage('its manifest has no config or layers');
    if (m.config.mediaType !== MEDIA.ociConfig && m.config.mediaType !== MEDIA.dockerConfig) throw notImage(`its config is ${m.config.mediaType}`);
    const cfgBytes = await reg.getBlob(repository, m.config.digest);
    if (!cfgBytes) throw new UserError(`refusing to publish the index: the config of '${ref}' is missing from ${repository}`);
    const cfg = parseJsonOr<{ architecture?: string; os?: string; variant?: string }>(cfgBytes, () => notImage('its config is not JSON'));
    if (!cfg || typeof cfg !== 'object' || !cfg.architecture || !cfg.os) throw notImage('its config does not say its architecture and os');
    let copied = false;
    if (repository !== repo) {
      // An index may only name manifests of its own repository: bring the image over.
      for (const d of [m.config, ...m.layers]) {
        if (!(await reg.hasBlob(repo, d.digest))) {
          if (!(await reg.mountBlob(repo, d.digest, repository))) {
            throw new UserError(`could not mount ${d.digest} from ${repository} into ${repo}`, { hint: 'Publish the arch images to the same repository as the index' });
          }
          bytesMounted += d.size;
        }
      }
      await reg.putManifest(repo, got.digest, got.bytes, got.mediaType || m.mediaType);
      copied = true;
    }
    const platform: Platform = { architecture: cfg.architecture, os: cfg.os, ...(cfg.variant ? { variant: cfg.variant } : {}) };
    children.push({ ref, repository, digest: got.digest, mediaType: got.mediaType || m.mediaType, size: got.bytes.length, platform, copied });
  }
  const seen = new Map<string, string>();
  for (const c of children) {
    const key = [c.platform.os, c.platform.architecture, c.platform.variant ?? ''].join('/');
    if (seen.has(key)) throw new UserError(`index children '${seen.get(key)}' and '${c.ref}' are both ${key.replace(/\/$/, '')}`, { hint: 'List one image per platform' });
    seen.set(key, c.ref);
  }
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MEDIA.ociIndex,
    manifests: children.map((c) => ({ mediaType: c.mediaType, digest: c.digest, size: c.size, platform: c.platform })),
  };
  if (o.annotations && Object.keys(o.annotations).length) index.annotations = o.annotations;
  const bytes = Buffer.from(JSON.stringify(index));
  const digest = await publishManifest(reg, repo, bytes, MEDIA.ociIndex, o.tags, o.log);
  return {
    digest,
    mediaType: MEDIA.ociIndex,
    manifest: bytes,
    tags: o.tags,
    blobs: [],
    bytesPushed: 0,
    bytesSkipped: 0,
    bytesMounted,
    seconds: (Date.now() - started) / 1000,
    retries: reg.retried - retriesBefore,
    children,
  };
}

