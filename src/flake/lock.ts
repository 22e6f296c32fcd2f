import { UserError } from '../errors.js';

/**
 * A typed model of flake.lock (versions 5 to 7, the ones Nix has written since
 * flakes became usable). Nodes are keyed; a node's `inputs` map an input name to
 * either a node key or a follows path (input names from the root; `[]` is the root).
 */
export type Attrs = Record<string, string | number | boolean>;

/** One fetcher reference (`locked` or `original`): `type` plus type-specific attributes. */
export interface FlakeRef extends Attrs {
  type: string;
}

export type InputTarget = { node: string } | { follows: string[] };

export interface LockNode {
  key: string;
  inputs: Record<string, InputTarget>;
  locked?: FlakeRef;
  original?: FlakeRef;
  /** False for `flake = false` inputs (plain sources). */
  flake: boolean;
  /** 1-based line of flake.lock where `"<key>": {` opens, for annotations. */
  line?: number;
}

export interface LockFile {
  /** Where it was read from (for errors and annotations). */
  file: string;
  version: number;
  root: string;
  nodes: Map<string, LockNode>;
}

export const SUPPORTED_LOCK_VERSIONS = [5, 6, 7] as const;

/** A lock file that does not parse or does not hold together; names the file and, where known, the line. */
export class LockError extends UserError {
  constructor(file: string, message: string, line?: number) {
    super(`${file}${line ? `:${line}` : ''}: ${message}`, {
      file,
      line,
      hint: 'Regenerate it with `nix flake lock`, or fix it by hand',
    });
    this.name = 'LockError';
  }
}

/** Parses flake.lock text; every structural problem is a LockError naming the node or input. */
export function parseLock(text: string, file = 'flake.lock'): LockFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new LockError(file, `is not valid JSON (${jsonMessage(e)})`, jsonErrorLine(e, text));
  }
  if (!isObject(json)) throw new LockError(file, 'is not a JSON object', 1);
  const version = json.version;
  if (typeof version !== 'number' || !Number.isInteger(version)) {
    throw new LockError(file, `has no lock file version (expected "version": ${SUPPORTED_LOCK_VERSIONS.join(', ')})`);
  }
  if (!(SUPPORTED_LOCK_VERSIONS as readonly number[]).includes(version)) {
    throw new LockError(
      file,
      `has lock file version ${version}, which is not supported (supported: ${SUPPORTED_LOCK_VERSIONS[0]} to ${SUPPORTED_LOCK_VERSIONS.at(-1)})`,
      topKeyLine(text, 'version'),
    );
  }
  if (!isObject(json.nodes)) throw new LockError(file, 'has no "nodes" object');
  const root = json.root;
  if (typeof root !== 'string') throw new LockError(file, 'has no "root" node key');
  const lines = nodeLines(text);
  const nodes = new Map<string, LockNode>();
  for (const [key, raw] of Object.entries(json.nodes)) {
    const line = lines.get(key);
    if (!isObject(raw)) throw new LockError(file, `node '${key}' is not an object`, line);
    const inputs: Record<string, InputTarget> = {};
    if (raw.inputs !== undefined) {
      if (!isObject(raw.inputs)) throw new LockError(file, `node '${key}' has "inputs" that is not an object`, line);
      for (const [name, target] of Object.entries(raw.inputs)) {
        if (typeof target === 'string') inputs[name] = { node: target };
        else if (Array.isArray(target) && target.every((t) => typeof t === 'string')) inputs[name] = { follows: target as string[] };
        else throw new LockError(file, `input '${name}' of node '${key}' is neither a node key nor a follows path`, line);
      }
    }
    const node: LockNode = { key, inputs, flake: raw.flake !== false, line };
    for (const which of ['locked', 'original'] as const) {
      const ref = raw[which];
      if (ref === undefined) continue;
      if (!isObject(ref) || typeof ref.type !== 'string') {
        throw new LockError(file, `node '${key}' has a "${which}" reference without a "type"`, line);
      }
      node[which] = ref as FlakeRef;
    }
    nodes.set(key, node);
  }
  if (!nodes.has(root)) throw new LockError(file, `names root node '${root}', which is not in "nodes"`, topKeyLine(text, 'root'));
  for (const node of nodes.values()) {
    for (const [name, target] of Object.entries(node.inputs)) {
      if ('node' in target && !nodes.has(target.node)) {
        throw new LockError(file, `input '${name}' of node '${node.key}' points to node '${target.node}', which does not exist`, node.line);
      }
    }
  }
  const lock: LockFile = { file, version, root, nodes };
  // Flattening resolves every follows once, which finds cycles and dangling paths up front.
  flattenInputs(lock);
  return lock;
}

/** One input as Nix's lock diff sees it: its attribute path and what it points to. */
export interface FlatInput {
  /** e.g. ['devenv', 'nixpkgs']; shown as `devenv/nixpkgs`. */
  path: string[];
  /** The node this path resolves to (after following). */
  node: LockNode;
  /** Set when the input is a follows: the path it follows. */
  follows?: string[];
}

/**
 * Every input attribute path reachable from the root, the way Nix flattens a lock
 * for `nix flake lock` diffs: a follows is listed as such and not descended into
 * (its target is listed under its own path).
 */
export function flattenInputs(lock: LockFile): FlatInput[] {
  const out: FlatInput[] = [];
  const visit = (node: LockNode, prefix: string[], stack: string[]) => {
    for (const name of Object.keys(node.inputs).sort()) {
      const target = node.inputs[name];
      const path = [...prefix, name];
      if ('follows' in target) {
        out.push({ path, node: resolvePath(lock, target.follows, path, node.line), follows: target.follows });
        continue;
      }
      const child = lock.nodes.get(target.node)!;
      if (stack.includes(child.key)) {
        throw new LockError(
          lock.file,
          `input '${path.join('/')}' makes a cycle through nodes ${[...stack, child.key].join(' -> ')}`,
          child.line,
        );
      }
      out.push({ path, node: child });
      visit(child, path, [...stack, child.key]);
    }
  };
  const root = lock.nodes.get(lock.root)!;
  visit(root, [], [root.key]);
  return out;
}

/**
 * Resolves a follows path (input names from the root) to a node, following
 * further follows on the way, as Nix's LockFile does. Names the input on failure.
 */
export function resolvePath(
  lock: LockFile,
  path: readonly string[],
  from: readonly string[],
  line?: number,
  seen: string[] = [from.join('/')],
): LockNode {
  const label = from.join('/');
  const key = path.join('/');
  if (seen.includes(key)) {
    throw new LockError(lock.file, `input '${label}' follows a cycle: ${[...seen, key].map((s) => `'${s}'`).join(' -> ')}`, line);
  }
  let node = lock.nodes.get(lock.root)!;
  for (let i = 0; i < path.length; i++) {
    const target = node.inputs[path[i]];
    if (!target) {
      const where = i === 0 ? 'the root' : `'${path.slice(0, i).join('/')}'`;
      throw new LockError(
        lock.file,
        `input '${label}' follows '${key}', which does not exist (${where} has no input '${path[i]}')`,
        line,
      );
    }
    node = 'node' in target ? lock.nodes.get(target.node)! : resolvePath(lock, target.follows, from, line, [...seen, key]);
  }
  return node;
}

/** The nodes reachable from the root (each once), excluding the root itself. */
export function reachableNodes(lock: LockFile): LockNode[] {
  const seen = new Map<string, LockNode>();
  for (const input of flattenInputs(lock)) seen.set(input.node.key, input.node);
  return [...seen.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The line of a top-level key (the last one at two-space-or-less indent), for errors about it. */
function topKeyLine(text: string, key: string): number | undefined {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) if (new RegExp(`^\\s{0,2}"${key}"\\s*:`).test(lines[i])) return i + 1;
  return undefined;
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/\s*\(line \d+ column \d+\)/, '').replace(/^JSON\.parse: /, '').replace(/[\r\n]+/g, ' ').slice(0, 120);
}

/** The 1-based line of a JSON.parse error: Node 20 gives a position, Node 22+ also a line. */
export function jsonErrorLine(e: unknown, text: string): number {
  const m = e instanceof Error ? e.message : '';
  const line = /line (\d+) column/.exec(m);
  if (line) return Number(line[1]);
  const pos = /at position (\d+)/.exec(m);
  const offset = pos ? Number(pos[1]) : text.length;
  return text.slice(0, offset).split('\n').length;
}

/**
 * The line where each node opens under the top-level "nodes" object. A small
 * scanner over the text (JSON.parse keeps no positions): it tracks strings and
 * nesting depth and records keys that open an object at depth 2 inside "nodes".
 */
export function nodeLines(text: string): Map<string, number> {
  const offsets = new Map<string, number>();
  let depth = 0;
  let inNodes = false;
  let lastKey: string | undefined;
  let lastKeyAt = 0;
  let topKey: string | undefined;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // find the closing quote, skipping escapes
      let j = i + 1;
      let escaped = false;
      for (;;) {
        j = text.indexOf('"', j);
        if (j < 0) return toLines(text, offsets);
        let k = j - 1;
        while (text.charCodeAt(k) === 92 /* \ */) k--;
        if ((j - 1 - k) % 2 === 0) break;
        escaped = true;
        j++;
      }
      // a key when the next non-space character is ':'
      let k = j + 1;
      while (k < n && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 10 || text.charCodeAt(k) === 13 || text.charCodeAt(k) === 9)) k++;
      if (text.charCodeAt(k) === 58 /* : */ && (depth === 1 || (depth === 2 && inNodes))) {
        const raw = text.slice(i + 1, j);
        let key = raw;
        if (escaped) {
          try {
            key = JSON.parse(`"${raw}"`);
          } catch {
            key = raw;
          }
        }
        lastKey = key;
        lastKeyAt = i;
        if (depth === 1) topKey = key;
      }
      i = j;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      depth++;
      if (depth === 2) inNodes = topKey === 'nodes' && c === 123;
      if (depth === 3 && inNodes && c === 123 && lastKey !== undefined && !offsets.has(lastKey)) offsets.set(lastKey, lastKeyAt);
      lastKey = undefined;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
    else if (c === 44 /* , */) lastKey = undefined;
  }
  return toLines(text, offsets);
}

/** Turns character offsets into 1-based line numbers with one pass over the text. */
function toLines(text: string, offsets: Map<string, number>): Map<string, number> {
  const sorted = [...offsets.entries()].sort((a, b) => a[1] - b[1]);
  const out = new Map<string, number>();
  let line = 1;
  let pos = 0;
  for (const [key, offset] of sorted) {
    for (let nl = text.indexOf('\n', pos); nl !== -1 && nl < offset; nl = text.indexOf('\n', nl + 1)) {
      line++;
      pos = nl + 1;
    }
    out.set(key, line);
  }
  return out;
}
