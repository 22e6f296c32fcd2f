import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';
import { run } from '../process/run.js';

/**
 * Same inputs, same bytes: the timestamp comes from SOURCE_DATE_EPOCH, else the
 * workspace's commit time, else the flake's lastModified, and only when none of
 * these exists from the clock (with a warning, since two runs then differ).
 */
export async function resolveTimestamp(options: {
  sourceDateEpoch?: string;
  workspace?: string;
  flakeLastModified?: number;
  now?: () => number;
}): Promise<{ seconds: number; source: string; reproducible: boolean }> {
  const sde = options.sourceDateEpoch?.trim();
  if (sde) {
    if (!/^\d{1,12}$/.test(sde)) {
      throw new UserError(`SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, got '${clip(sde)}'`, {
        hint: 'Set it to e.g. the output of `git log -1 --format=%ct`, or unset it',
      });
    }
    return { seconds: Number(sde), source: 'SOURCE_DATE_EPOCH', reproducible: true };
  }
  if (options.workspace) {
    try {
      const r = await run('git', ['-C', options.workspace, 'log', '-1', '--format=%ct'], {});
      const t = r.stdout.trim();
      if (r.code === 0 && /^\d+$/.test(t)) return { seconds: Number(t), source: 'commit time (git log -1)', reproducible: true };
    } catch {
      // git is not installed: try the next source
    }
  }
  if (options.flakeLastModified !== undefined) {
    return { seconds: options.flakeLastModified, source: "flake's lastModified", reproducible: true };
  }
  return { seconds: Math.floor((options.now ?? Date.now)() / 1000), source: 'clock (not reproducible)', reproducible: false };
}

/**
 * A serial number derived from the document's content (RFC 4122 layout, version 5
 * bits, SHA-256 of the content instead of SHA-1): the same document always gets the
 * same serial, a different one a different serial.
 */
export function contentUuid(content: string): string {
  const b = createHash('sha256').update(content).digest().subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function clip(s: string): string {
  const one = s.replace(/[\r\n]+/g, ' ');
  return one.length > 40 ? `${one.slice(0, 37)}...` : one;
}
