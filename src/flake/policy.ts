import { flattenInputs, type LockFile, type LockNode } from './lock.js';
import { isForge, refHost } from './ref.js';
import { supportedBranches } from './branches.js';

/**
 * The lock policy. Each rule has an id a user can switch off (the `policy` input);
 * host and owner allow-lists apply when given. Every violation names the node and
 * carries the line of flake.lock where that node starts.
 */
export const RULES = {
  'max-age': 'nixpkgs-like inputs are no older than max-age-days',
  'supported-branch': 'nixpkgs-like inputs follow a supported branch',
  'nixos-owner': 'nixpkgs-like inputs come from github:NixOS',
  'no-path': 'no path: or file:// inputs (they do not exist on another machine)',
  locked: 'every input is locked to a revision or hash',
  'nar-hash': 'every locked input has a narHash',
  'allowed-hosts': 'inputs come only from allowed hosts',
  'allowed-owners': 'forge inputs come only from allowed owners',
} as const;

export type RuleId = keyof typeof RULES;
export const DEFAULT_RULES: RuleId[] = ['max-age', 'supported-branch', 'nixos-owner', 'no-path', 'locked', 'nar-hash'];

export interface PolicyOptions {
  rules: RuleId[];
  maxAgeDays: number;
  /** Input names (last path component) that are nixpkgs-like. */
  nixpkgsInputs: string[];
  /** Replaces the derived supported list when non-empty. */
  supportedBranches: string[];
  allowedHosts: string[];
  allowedOwners: string[];
  now: Date;
}

export interface Violation {
  rule: RuleId;
  /** Node key in flake.lock. */
  node: string;
  /** Input paths that resolve to this node, e.g. ['nixpkgs', 'devenv/nixpkgs']. */
  inputs: string[];
  message: string;
  file: string;
  line?: number;
}

export interface NodeAge {
  node: string;
  days: number;
}

const DAY = 86400 * 1000;

export function ageDays(node: LockNode, now: Date): number | undefined {
  const lm = node.locked?.lastModified;
  return typeof lm === 'number' ? Math.floor((now.getTime() - lm * 1000) / DAY) : undefined;
}

/** Checks every node reachable from the root of `lock` against the policy. */
export function checkPolicy(lock: LockFile, options: PolicyOptions): Violation[] {
  const rules = new Set<RuleId>(options.rules);
  if (options.allowedHosts.length) rules.add('allowed-hosts');
  if (options.allowedOwners.length) rules.add('allowed-owners');
  const branches = options.supportedBranches.length ? options.supportedBranches : supportedBranches(options.now);
  const byNode = new Map<string, { node: LockNode; inputs: string[] }>();
  for (const e of flattenInputs(lock)) {
    if (e.node.key === lock.root) continue; // an input that follows `[]` is the flake itself
    const entry = byNode.get(e.node.key) ?? { node: e.node, inputs: [] };
    entry.inputs.push(e.path.join('/'));
    byNode.set(e.node.key, entry);
  }
  // Name a node by its shortest input path (`nixpkgs` before `devenv/nixpkgs`).
  const depth = (p: string) => p.split('/').length;
  for (const e of byNode.values()) e.inputs.sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
  const nixpkgsNames = new Set(options.nixpkgsInputs);
  const out: Violation[] = [];
  for (const key of [...byNode.keys()].sort()) {
    const { node, inputs } = byNode.get(key)!;
    const add = (rule: RuleId, message: string) => {
      if (rules.has(rule)) out.push({ rule, node: key, inputs, message, file: lock.file, line: node.line });
    };
    const label = `Input '${inputs[0]}'`;
    const locked = node.locked;
    const original = node.original;
    const nixpkgsLike = inputs.some((p) => nixpkgsNames.has(p.split('/').at(-1)!));
    if (!locked) {
      add('locked', `${label} is not locked (no "locked" reference): run nix flake lock`);
      continue;
    }
    const url = typeof locked.url === 'string' ? locked.url : '';
    if (locked.type === 'path' || /^([a-z]+\+)?file:/.test(url)) {
      add('no-path', `${label} is a local ${locked.type === 'path' ? 'path:' : 'file://'} input (${locked.path ?? url}), which does not exist on another machine: use a git or forge URL`);
    }
    const needsRev = isForge(locked.type) || locked.type === 'git' || locked.type === 'hg' || locked.type === 'mercurial';
    if (needsRev && typeof locked.rev !== 'string') add('locked', `${label} is not locked to a revision: run nix flake lock`);
    if (typeof locked.narHash !== 'string' || !locked.narHash) add('nar-hash', `${label} has no narHash, so its content is not pinned: run nix flake lock with a current Nix`);
    if (nixpkgsLike) {
      const days = ageDays(node, options.now);
      if (days === undefined) add('max-age', `${label} has no lastModified date, so its age cannot be checked`);
      else if (days > options.maxAgeDays) {
        add('max-age', `${label} is ${days} days old (limit ${options.maxAgeDays}): run nix flake update ${inputs[0].split('/')[0]}`);
      }
      const branch = (typeof original?.ref === 'string' && original.ref) || (typeof locked.ref === 'string' && locked.ref) || undefined;
      if (!branch) add('supported-branch', `${label} names no branch, so it tracks the repository's default branch: use one of ${branches.slice(0, 6).join(', ')}`);
      else if (!branches.includes(branch)) add('supported-branch', `${label} is on branch '${branch}', which is not supported: use one of ${branches.slice(0, 6).join(', ')}`);
      if (locked.type !== 'github' || String(locked.owner).toLowerCase() !== 'nixos') {
        const from = locked.type === 'github' ? `github:${locked.owner}` : locked.type;
        add('nixos-owner', `${label} comes from ${from}, not github:NixOS/nixpkgs`);
      }
    }
    const host = refHost(locked);
    if (host && options.allowedHosts.length && !options.allowedHosts.map((h) => h.toLowerCase()).includes(host.toLowerCase())) {
      add('allowed-hosts', `${label} comes from host ${host}, which is not in allowed-hosts`);
    }
    if (isForge(locked.type) && options.allowedOwners.length) {
      const owner = String(locked.owner ?? '');
      if (!options.allowedOwners.map((o) => o.toLowerCase()).includes(owner.toLowerCase())) {
        add('allowed-owners', `${label} comes from owner ${owner}, which is not in allowed-owners`);
      }
    }
  }
  return out;
}

/** Age in days of each nixpkgs-like and every other node with a date (for the summary's age column). */
export function nodeAges(lock: LockFile, now: Date): Map<string, number> {
  const out = new Map<string, number>();
  for (const node of lock.nodes.values()) {
    const d = ageDays(node, now);
    if (d !== undefined) out.set(node.key, d);
  }
  return out;
}
