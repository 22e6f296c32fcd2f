import type { FlakeRef } from './lock.js';

/**
 * What a reviewer needs about one locked reference: the URL Nix would print, the
 * revision, branch, date and hash, and where the source lives on the web.
 */
export interface RefSummary {
  type: string;
  /** The reference as a flake URL, e.g. `github:NixOS/nixpkgs/<rev>`. */
  url: string;
  rev?: string;
  ref?: string;
  /** ISO date of lastModified. */
  date?: string;
  lastModified?: number;
  narHash?: string;
  /** Forge host for github/gitlab/sourcehut/gitea, or the URL's host. */
  host?: string;
  owner?: string;
  repo?: string;
  dir?: string;
}

export const FORGES: Record<string, string> = {
  github: 'github.com',
  gitlab: 'gitlab.com',
  sourcehut: 'git.sr.ht',
};

export const isForge = (type: string): boolean => type in FORGES || type === 'gitea';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The flake URL of a reference (as Nix spells it), with `dir`, `host` etc. as query parameters. */
export function refUrl(ref: FlakeRef): string {
  const rest: Record<string, string> = {};
  const skip = new Set(['type', 'narHash', 'lastModified', 'revCount', 'lastModifiedDate']);
  let base: string;
  switch (ref.type) {
    case 'github':
    case 'gitlab':
    case 'sourcehut':
    case 'gitea': {
      for (const k of ['owner', 'repo', 'rev', 'ref']) skip.add(k);
      const tail = str(ref.rev) ?? str(ref.ref);
      base = `${ref.type}:${ref.owner}/${ref.repo}${tail ? `/${tail}` : ''}`;
      break;
    }
    case 'indirect':
      for (const k of ['id', 'rev', 'ref']) skip.add(k);
      base = `flake:${ref.id}${str(ref.ref) ? `/${ref.ref}` : ''}${str(ref.rev) ? `/${ref.rev}` : ''}`;
      break;
    case 'path':
      skip.add('path');
      base = `path:${ref.path}`;
      break;
    case 'git':
    case 'hg':
    case 'mercurial':
      skip.add('url');
      base = `${ref.type === 'git' ? 'git' : 'hg'}+${ref.url}`;
      break;
    case 'tarball':
    case 'file':
      skip.add('url');
      base = /^(https?|file):/.test(String(ref.url)) && ref.type === 'tarball' ? String(ref.url) : `${ref.type}+${ref.url}`;
      break;
    default:
      skip.add('url');
      base = `${ref.type}:${ref.url ?? ''}`;
  }
  for (const [k, v] of Object.entries(ref)) if (!skip.has(k) && v !== undefined) rest[k] = String(v);
  const query = Object.keys(rest)
    .sort()
    .map((k) => `${k}=${encodeURIComponent(rest[k])}`)
    .join('&');
  return query ? `${base}${base.includes('?') ? '&' : '?'}${query}` : base;
}

export function summarizeRef(ref: FlakeRef): RefSummary {
  const lastModified = typeof ref.lastModified === 'number' ? ref.lastModified : undefined;
  const out: RefSummary = {
    type: ref.type,
    url: refUrl(ref),
    rev: str(ref.rev),
    ref: str(ref.ref),
    lastModified,
    date: lastModified !== undefined ? new Date(lastModified * 1000).toISOString() : undefined,
    narHash: str(ref.narHash),
    host: refHost(ref),
    owner: str(ref.owner),
    repo: str(ref.repo),
    dir: str(ref.dir),
  };
  for (const k of Object.keys(out) as (keyof RefSummary)[]) if (out[k] === undefined) delete out[k];
  return out;
}

/** The host a reference is fetched from: the forge (default or `host`), or the URL's host. */
export function refHost(ref: FlakeRef): string | undefined {
  if (isForge(ref.type)) return str(ref.host) ?? FORGES[ref.type];
  const url = str(ref.url);
  if (!url) return undefined;
  try {
    const u = new URL(url.replace(/^[a-z]+\+/, ''));
    return u.protocol === 'file:' ? undefined : u.hostname || undefined;
  } catch {
    return undefined;
  }
}

/** The repository's web page on its forge, or undefined for non-forge types. */
export function webRepo(ref: FlakeRef): string | undefined {
  if (!isForge(ref.type) || !str(ref.owner) || !str(ref.repo)) return undefined;
  const host = refHost(ref);
  if (!host) return undefined;
  const owner = ref.type === 'sourcehut' && !String(ref.owner).startsWith('~') ? `~${ref.owner}` : ref.owner;
  return `https://${host}/${owner}/${ref.repo}`;
}

/**
 * A link that shows what changed between two revisions on the same forge
 * repository: the forge's compare view (GitHub, GitLab, Gitea). sourcehut has no
 * compare view, so its link is the log starting at the new revision.
 */
export function compareLink(oldRef: FlakeRef, newRef: FlakeRef): string | undefined {
  const a = webRepo(oldRef);
  const b = webRepo(newRef);
  if (!a || a !== b || !str(oldRef.rev) || !str(newRef.rev)) return undefined;
  switch (newRef.type) {
    case 'github':
    case 'gitea':
      return `${b}/compare/${oldRef.rev}...${newRef.rev}`;
    case 'gitlab':
      return `${b}/-/compare/${oldRef.rev}...${newRef.rev}`;
    case 'sourcehut':
      return `${b}/log/${newRef.rev}`;
    default:
      return undefined;
  }
}

/** True when two locked references lock the same thing (same attributes, order aside). */
export function sameRef(a: FlakeRef | undefined, b: FlakeRef | undefined): boolean {
  if (!a || !b) return a === b;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}
