import { InputError, UserError } from '../errors.js';
import type { RunContext } from '../github/context.js';
import type { TagValues } from './tags.js';

/**
 * OCI labels (in the image config) and annotations (on the manifest). Defaults
 * follow the OCI annotation keys docker/metadata-action sets; `created` is the
 * commit time, not the push time, so the same commit yields the same config.
 */
export const OCI = 'org.opencontainers.image';

export function defaultMetadata(ctx: RunContext, values: TagValues, created: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (ctx.repository) out[`${OCI}.source`] = `${ctx.serverUrl}/${ctx.repository}`;
  if (ctx.sha) out[`${OCI}.revision`] = ctx.sha;
  const version = values.version ?? values.tag ?? values.ref_name;
  if (version) out[`${OCI}.version`] = version;
  if (created) out[`${OCI}.created`] = created;
  const spdx = ctx.event?.repository?.license?.spdx_id;
  if (typeof spdx === 'string' && spdx && spdx !== 'NOASSERTION') out[`${OCI}.licenses`] = spdx;
  return out;
}

/** The commit time as UTC ISO 8601, from the event or undefined. */
export function commitTimeFromEvent(ctx: RunContext): string | undefined {
  const ts = ctx.event?.head_commit?.timestamp;
  if (typeof ts !== 'string') return undefined;
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? undefined : isoSeconds(d);
}

export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/;

/** `key=value` lines; `none` alone means "add nothing, not even the defaults". */
export function parseKeyValues(input: 'labels' | 'annotations', lines: readonly string[]): { none: boolean; values: Record<string, string> } {
  if (lines.length === 1 && lines[0].trim().toLowerCase() === 'none') return { none: true, values: {} };
  const values: Record<string, string> = {};
  for (const line of lines) {
    const eq = line.indexOf('=');
    const key = eq < 0 ? line.trim() : line.slice(0, eq).trim();
    if (eq < 0) throw new InputError(input, `'${clip(line)}' is not key=value (or write just 'none' to add no ${input})`);
    if (!KEY_RE.test(key)) throw new InputError(input, `'${clip(key)}' is not a valid key: use letters, digits and . _ - /, e.g. org.example.team=ops`);
    values[key] = line.slice(eq + 1).trim();
  }
  return { none: false, values };
}

function clip(s: string): string {
  const one = s.replace(/[\r\n]+/g, ' ');
  return one.length > 60 ? `${one.slice(0, 57)}...` : one;
}

/**
 * Adds labels to an image config without touching anything else: only
 * `config.Labels` changes, every other field keeps its value and order.
 */
export function addLabels(config: Buffer, labels: Record<string, string>): Buffer {
  if (Object.keys(labels).length === 0) return config;
  let doc: Record<string, any>;
  try {
    doc = JSON.parse(config.toString('utf8'));
  } catch (e) {
    throw new UserError(`the image config is not valid JSON (${(e as Error).message})`, { hint: 'Rebuild the image' });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UserError('the image config is not a JSON object');
  const inner = typeof doc.config === 'object' && doc.config !== null ? doc.config : (doc.config = {});
  inner.Labels = { ...(inner.Labels ?? {}), ...labels };
  return Buffer.from(JSON.stringify(doc));
}
