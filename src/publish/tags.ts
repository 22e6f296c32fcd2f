import semver from 'semver';
import { InputError } from '../errors.js';
import type { RunContext } from '../github/context.js';

/**
 * Tag templates in the spirit of docker/metadata-action: each line of `tags` is a
 * literal tag or holds `{{name}}` placeholders filled from the run. A line whose
 * placeholder has no value in this run (`{{pr}}` on a push) is skipped and said
 * so; an unknown placeholder or a tag that is not a valid OCI tag is an error.
 */
export const TEMPLATES = ['sha', 'sha:N', 'branch', 'pr', 'tag', 'ref_name', 'version', 'major', 'minor', 'patch', 'run_id'] as const;

export interface TagValues {
  sha?: string;
  branch?: string;
  pr?: string;
  tag?: string;
  ref_name?: string;
  version?: string;
  major?: string;
  minor?: string;
  patch?: string;
  run_id?: string;
}

export function tagValues(ctx: RunContext): TagValues {
  const v: TagValues = {};
  if (ctx.sha) v.sha = ctx.sha;
  if (ctx.refName) v.ref_name = ctx.refName;
  if (ctx.runId) v.run_id = ctx.runId;
  const pr = ctx.event?.pull_request;
  if (pr?.number !== undefined) v.pr = String(pr.number);
  else {
    const m = /^refs\/pull\/(\d+)\//.exec(ctx.ref);
    if (m) v.pr = m[1];
  }
  if (ctx.ref.startsWith('refs/heads/')) v.branch = ctx.ref.slice('refs/heads/'.length);
  else if (typeof pr?.head?.ref === 'string') v.branch = pr.head.ref;
  if (ctx.ref.startsWith('refs/tags/')) {
    v.tag = ctx.ref.slice('refs/tags/'.length);
    const parsed = semver.parse(v.tag.replace(/^v/, ''));
    if (parsed) {
      v.version = parsed.version;
      v.major = String(parsed.major);
      v.minor = String(parsed.minor);
      v.patch = String(parsed.patch);
    }
  }
  return v;
}

const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Makes a run value fit a tag: anything outside [A-Za-z0-9_.-] becomes '-'. */
export function sanitizeValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_.-]/g, '-');
}

export interface ExpandedTags {
  tags: string[];
  skipped: { template: string; reason: string }[];
}

function clip(s: string): string {
  const one = s.replace(/[\r\n]+/g, ' ');
  return one.length > 60 ? `${one.slice(0, 57)}...` : one;
}

export function expandTags(templates: readonly string[], values: TagValues): ExpandedTags {
  const tags: string[] = [];
  const skipped: ExpandedTags['skipped'] = [];
  for (const template of templates) {
    let missing: string | undefined;
    let substituted = false;
    const rest = template.replace(/\{\{([^{}]*)\}\}/g, '');
    if (/[{}]/.test(rest)) {
      throw new InputError('tags', `'${clip(template)}' has an unbalanced '{' or '}'; write placeholders as {{name}}, e.g. {{sha:7}}`);
    }
    let tag = template.replace(/\{\{\s*([^{}]*?)\s*\}\}/g, (_all, inner: string) => {
      const m = /^(\w+)(?::(\d+))?$/.exec(inner);
      const name = m?.[1] as keyof TagValues | undefined;
      if (!m || !name || !(name in emptyValues) || (m[2] !== undefined && name !== 'sha')) {
        throw new InputError('tags', `unknown placeholder {{${clip(inner)}}} in '${clip(template)}'; known: ${TEMPLATES.map((t) => `{{${t}}}`).join(' ')}`);
      }
      const value = values[name];
      if (value === undefined || value === '') {
        missing ??= name;
        return '';
      }
      substituted = true;
      const n = m[2] === undefined ? undefined : Number(m[2]);
      if (n !== undefined && (n < 1 || n > 40)) throw new InputError('tags', `{{sha:${m[2]}}} must take 1 to 40 characters`);
      return sanitizeValue(n === undefined ? value : value.slice(0, n));
    });
    if (missing) {
      skipped.push({ template, reason: `no ${missing} in this run` });
      continue;
    }
    // A value may make the tag start with '.' or '-', or run long: trim what a value added.
    if (substituted) tag = tag.replace(/^[.-]+/, '').slice(0, 128);
    if (!TAG_RE.test(tag)) {
      throw new InputError(
        'tags',
        `'${clip(tag)}'${tag !== template ? ` (from '${clip(template)}')` : ''} is not a valid tag: use up to 128 of A-Z a-z 0-9 _ . -, not starting with . or -`,
      );
    }
    if (!tags.includes(tag)) tags.push(tag);
  }
  return { tags, skipped };
}

const emptyValues: Record<keyof TagValues, true> = {
  sha: true,
  branch: true,
  pr: true,
  tag: true,
  ref_name: true,
  version: true,
  major: true,
  minor: true,
  patch: true,
  run_id: true,
};
