import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { RunContext } from '../github/context.js';
import type { Log } from '../log.js';
import { run } from '../process/run.js';
import { openImage, type ImageFormat } from '../oci/image.js';
import { formatBytes } from '../markdown.js';
import { pushImage, pushIndex, type IndexChild, type PushResult } from '../oci/push.js';
import { checkRepository, Registry } from '../oci/registry.js';
import { addLabels, commitTimeFromEvent, defaultMetadata, isoSeconds, parseKeyValues } from './metadata.js';
import { expandTags, tagValues } from './tags.js';

/**
 * The publish step as plain values in, plain values out: resolve defaults from
 * the run, push the image (or an index over per-arch images), and describe the
 * result for the step outputs, the job summary and the JSON report.
 */
export interface PublishRequest {
  image?: string;
  registry: string;
  repository?: string;
  plainHttp: boolean;
  tags: string[];
  username?: string;
  password?: string;
  /** The job token: the password for GitHub's own container registry only, when none is given. */
  githubToken?: string;
  labels: string[];
  annotations: string[];
  index: string[];
  mountFrom: string[];
  ctx: RunContext;
  env: NodeJS.ProcessEnv;
  log: Log;
  onSecret?: (secret: string) => void;
  /** Registry client tuning (tests make retries fast). */
  client?: { retries?: number; backoffMs?: number; timeoutMs?: number; monolithicMax?: number; chunkSize?: number };
}

export interface PublishOutcome extends PushResult {
  registry: string;
  repository: string;
  imageRef: string;
  image?: string;
  format?: ImageFormat;
  kind: 'image' | 'index';
  skippedTags: { template: string; reason: string }[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  children?: IndexChild[];
}

/** The container registry of the GitHub server the job runs on: ghcr.io, or containers.<host> on GHES. */
export function githubRegistries(serverUrl: string): string[] {
  const hosts = ['ghcr.io'];
  let host: string | undefined;
  try {
    host = new URL(serverUrl).host.toLowerCase();
  } catch {
    host = undefined;
  }
  if (host && host !== 'github.com') hosts.push(`containers.${host}`);
  return hosts;
}

/**
 * The credentials sent to a registry. Given ones go as they are; with none, the
 * job token (and the actor) go to GitHub's own container registry only: any
 * other registry, and any token realm it names, gets no credentials at all.
 */
export function registryCredentials(
  registry: string,
  req: Pick<PublishRequest, 'username' | 'password' | 'githubToken'>,
  ctx: Pick<RunContext, 'actor' | 'serverUrl'>,
): { username?: string; password?: string } {
  if (req.password) return { username: req.username || ctx.actor || 'token', password: req.password };
  const host = registry.replace(/\/+$/, '').toLowerCase();
  if (req.githubToken && githubRegistries(ctx.serverUrl).includes(host)) {
    return { username: req.username || ctx.actor || 'token', password: req.githubToken };
  }
  return req.username ? { username: req.username } : {};
}

async function commitTime(ctx: RunContext, log: Log): Promise<string | undefined> {
  const fromEvent = commitTimeFromEvent(ctx);
  if (fromEvent) return fromEvent;
  if (ctx.sha) {
    const r = await run('git', ['-C', ctx.workspace, 'show', '-s', '--format=%cI', ctx.sha]).catch(() => undefined);
    const d = r?.code === 0 ? new Date(r.stdout.trim()) : undefined;
    if (d && !Number.isNaN(d.getTime())) return isoSeconds(d);
  }
  log.warning(`No commit time for ${ctx.sha || 'this run'} (no checkout and no push event): the ${'org.opencontainers.image.created'} label is left out`);
  return undefined;
}

export async function publish(req: PublishRequest): Promise<PublishOutcome> {
  const { ctx, log } = req;
  const started = Date.now();
  // Every input is checked before anything is read or sent.
  const repository = checkRepository(req.repository || ctx.repository.toLowerCase());
  const values = tagValues(ctx);
  const { tags, skipped } = expandTags(req.tags, values);
  const labelsIn = parseKeyValues('labels', req.labels);
  const annotationsIn = parseKeyValues('annotations', req.annotations);
  const reg = new Registry({
    host: req.registry,
    plainHttp: req.plainHttp,
    ...registryCredentials(req.registry, req, ctx),
    onSecret: req.onSecret,
    log,
    ...req.client,
  });
  const path = req.index.length ? undefined : req.image || req.env.NIX_ACTIONS_IMAGE;
  if (req.index.length && req.image) throw new UserError("give either 'image' or 'index', not both", { hint: "'index' combines images published by earlier steps" });
  if (!req.index.length && !path) {
    throw new UserError('no image to publish', {
      hint: "Run the build step first (it exports NIX_ACTIONS_IMAGE), or set the 'image' input",
    });
  }
  const image = path ? await log.group(`Reading ${path}`, () => openImage(path)) : undefined;

  const needsDefaults = !labelsIn.none || !annotationsIn.none;
  const defaults = needsDefaults ? defaultMetadata(ctx, values, await commitTime(ctx, log)) : {};
  const labels = labelsIn.none ? {} : { ...defaults, ...labelsIn.values };
  const annotations = annotationsIn.none ? {} : { ...defaults, ...annotationsIn.values };
  for (const s of skipped) log.notice(`Tag '${s.template}' skipped: ${s.reason}`);
  if (tags.length === 0) log.notice('No tags: pushed by digest only');

  if (!image) {
    const r = await pushIndex(reg, { repository, children: req.index, tags, annotations, log });
    return {
      ...r,
      seconds: (Date.now() - started) / 1000,
      registry: reg.host,
      repository,
      imageRef: `${reg.host}/${repository}@${r.digest}`,
      kind: 'index',
      skippedTags: skipped,
      labels: {},
      annotations,
    };
  }
  log.info(`${path}: ${image.format}, ${image.layers.length} layers`);
  const config = labelsIn.none ? image.config : addLabels(image.config, labels);
  const r = await log.group(`Pushing to ${reg.host}/${repository}`, () =>
    pushImage(reg, image, { repository, tags, config, annotations, mountFrom: req.mountFrom, log }),
  );
  return {
    ...r,
    // Reading the image (a stream script's first pass) is part of the time a user waits.
    seconds: (Date.now() - started) / 1000,
    registry: reg.host,
    repository,
    imageRef: `${reg.host}/${repository}@${r.digest}`,
    image: path,
    format: image.format,
    kind: 'image',
    skippedTags: skipped,
    labels,
    annotations,
  };
}

/** Markdown-safe inline code: no backticks, pipes or line breaks from the data can break the table. */
function code(s: string): string {
  return `\`${s.replace(/[`\r\n]/g, ' ').replace(/\|/g, '\\|')}\``;
}

export function summaryMarkdown(o: PublishOutcome): string {
  const rows: [string, string][] = [];
  rows.push([o.kind === 'index' ? 'Index' : 'Image', o.kind === 'index' ? `${o.children?.length ?? 0} platform${o.children?.length === 1 ? '' : 's'}` : `${code(o.image ?? '')} (${o.format})`]);
  rows.push(['Reference', code(o.imageRef)]);
  rows.push(['Tags', o.tags.length ? o.tags.map(code).join(', ') : 'none (pushed by digest)']);
  if (o.kind === 'image') {
    const n = (s: string) => o.blobs.filter((b) => b.status === s).length;
    rows.push(['Blobs', `${o.blobs.length}: ${n('pushed')} pushed, ${n('skipped')} already in the registry, ${n('mounted')} mounted`]);
    rows.push(['Size pushed', formatBytes(o.bytesPushed)]);
    rows.push(['Size skipped (registry had it)', formatBytes(o.bytesSkipped)]);
  }
  if (o.bytesMounted) rows.push(['Size mounted from other repositories', formatBytes(o.bytesMounted)]);
  rows.push(['Time', `${o.seconds.toFixed(1)} s`]);
  rows.push(['Retries', String(o.retries)]);
  let md = `### Published ${code(`${o.registry}/${o.repository}`)}\n\n| | |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`;
  if (o.children?.length) {
    md += `\n| platform | digest | from |\n|---|---|---|\n${o.children
      .map((c) => `| ${code([c.platform.os, c.platform.architecture, c.platform.variant].filter(Boolean).join('/'))} | ${code(c.digest)} | ${code(c.ref)} |`)
      .join('\n')}\n`;
  }
  const meta = Object.entries(o.kind === 'index' ? o.annotations : o.labels);
  if (meta.length) md += `\n| ${o.kind === 'index' ? 'annotation' : 'label'} | value |\n|---|---|\n${meta.map(([k, v]) => `| ${code(k)} | ${code(v)} |`).join('\n')}\n`;
  if (o.skippedTags.length) md += `\nSkipped tags: ${o.skippedTags.map((s) => `${code(s.template)} (${s.reason})`).join(', ')}\n`;
  return md;
}

/** The JSON report (shape documented in publish/README.md). */
export function report(o: PublishOutcome): Record<string, unknown> {
  return {
    kind: o.kind,
    image: o.image ?? null,
    format: o.format ?? null,
    registry: o.registry,
    repository: o.repository,
    digest: o.digest,
    imageRef: o.imageRef,
    mediaType: o.mediaType,
    tags: o.tags,
    skippedTags: o.skippedTags,
    labels: o.labels,
    annotations: o.annotations,
    blobs: o.blobs.map((b) => ({ role: b.role, digest: b.digest, size: b.size, mediaType: b.mediaType, status: b.status })),
    children: (o.children ?? []).map((c) => ({ ref: c.ref, digest: c.digest, platform: c.platform, copied: c.copied })),
    bytesPushed: o.bytesPushed,
    bytesSkipped: o.bytesSkipped,
    bytesMounted: o.bytesMounted,
    seconds: Math.round(o.seconds * 1000) / 1000,
    retries: o.retries,
    manifest: JSON.parse(o.manifest.toString('utf8')),
  };
}

export function writeReport(dir: string, o: PublishOutcome): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `publish-${o.digest.slice(7, 19)}.json`);
  writeFileSync(file, `${JSON.stringify(report(o), null, 2)}\n`);
  return file;
}
