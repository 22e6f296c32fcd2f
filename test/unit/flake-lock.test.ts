import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LockError, flattenInputs, nodeLines, parseLock, reachableNodes } from '../../src/flake/lock.js';
import { UserError } from '../../src/errors.js';

const FIX = join(new URL('../fixtures/flake-lock', import.meta.url).pathname);
const read = (name: string) => readFileSync(join(FIX, name), 'utf8');
const load = (name: string) => parseLock(read(name), name);
const flat = (name: string) =>
  flattenInputs(load(name)).map((e) => `${e.path.join('/')}${e.follows ? ` -> ${e.follows.join('/') || '(root)'}` : ''} = ${e.node.key}`);

/** The 1-based line of the first line of `text` matching `re`, computed independently of the parser. */
const lineOf = (text: string, re: RegExp) => text.split('\n').findIndex((l) => re.test(l)) + 1;

describe('flake.lock model', () => {
  it('flattens every input type by attribute path, follows listed as such and resolved', () => {
    expect(flat('all-types.lock')).toEqual([
      'devenv = devenv',
      'devenv/nixpkgs -> nixpkgs = nixpkgs',
      'devenv/pre-commit = pre-commit',
      'devenv/pre-commit/nixpkgs -> devenv/nixpkgs = nixpkgs',
      'docs = docs',
      'forge = forge',
      'local = local',
      'mono = mono',
      'nixpkgs = nixpkgs',
      'src = src',
    ]);
    const lock = load('all-types.lock');
    expect(lock.version).toBe(7);
    expect(lock.nodes.get('docs')!.flake).toBe(false);
    expect(lock.nodes.get('nixpkgs')!.original).toEqual({ id: 'nixpkgs', ref: 'nixos-24.05', type: 'indirect' });
    expect(lock.nodes.get('mono')!.locked!.dir).toBe('nix/sub');
    expect(reachableNodes(lock).map((n) => n.key)).toEqual(['devenv', 'docs', 'forge', 'local', 'mono', 'nixpkgs', 'pre-commit', 'src']);
  });

  it('resolves a follows chain through several follows, and [] to the root', () => {
    expect(flat('follows-chain.lock')).toEqual([
      'a = a',
      'a/nixpkgs -> b/nixpkgs = nixpkgs',
      'b = b',
      'b/nixpkgs -> c/nixpkgs = nixpkgs',
      'c = c',
      'c/nixpkgs = nixpkgs',
      'c/self-ref -> (root) = root',
    ]);
  });

  it('records the line where each node starts under "nodes"', () => {
    const text = read('all-types.lock');
    const lock = load('all-types.lock');
    for (const key of ['devenv', 'nixpkgs', 'pre-commit', 'root', 'src']) {
      expect({ key, line: lock.nodes.get(key)!.line }).toEqual({ key, line: lineOf(text, new RegExp(`^    "${key}": \\{`)) });
    }
    // keys inside nodes ("inputs", "nixpkgs" as an input name) are not nodes
    const lines = nodeLines(text);
    expect(lines.get('nixpkgs')).toBe(lineOf(text, /^    "nixpkgs": \{/));
    expect(lines.has('locked')).toBe(false);
  });

  it('finds node lines in compact and reordered JSON, with escapes in keys', () => {
    const text = '{"version":7,"root":"r","nodes":{"a\\"b":{"locked":{"type":"path","path":"/x"}},\n"r":{"inputs":{"q":"a\\"b"}}}}';
    const lock = parseLock(text);
    expect(lock.nodes.get('a"b')!.line).toBe(1);
    expect(lock.nodes.get('r')!.line).toBe(2);
    expect(flattenInputs(lock).map((e) => e.path.join('/'))).toEqual(['q']);
  });

  it('accepts versions 5 and 6', () => {
    expect(load('v5-unlocked.lock').version).toBe(5);
    const v6 = read('follows-chain.lock').replace('"version": 7', '"version": 6');
    expect(parseLock(v6).version).toBe(6);
  });
});

describe('malformed lock files give one clear error', () => {
  const cases: [string, RegExp, RegExp | undefined][] = [
    ['invalid-json.lock', /^invalid-json\.lock:4: is not valid JSON/, /"a": "a", \}/],
    ['unknown-version.lock', /has lock file version 8, which is not supported \(supported: 5 to 7\)/, /"version"/],
    ['missing-root.lock', /names root node 'top', which is not in "nodes"/, /^  "root"/],
    ['follows-cycle.lock', /input 'a\/x' follows a cycle: 'a\/x' -> 'b\/y' -> 'a\/x'/, /^    "a": \{/],
    ['node-cycle.lock', /input 'a\/b\/a' makes a cycle through nodes root -> a -> b -> a/, /^    "a": \{/],
    ['dangling-follows.lock', /input 'a\/nixpkgs' follows 'nixpkgs-stable', which does not exist \(the root has no input 'nixpkgs-stable'\)/, /^    "a": \{/],
    ['dangling-node.lock', /input 'a' of node 'root' points to node 'a_2', which does not exist/, /^    "root": \{/],
  ];
  it.each(cases)('%s', (name, message, lineRe) => {
    let err: unknown;
    try {
      load(name);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LockError);
    const e = err as LockError;
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toMatch(message);
    expect(e.file).toBe(name);
    if (lineRe) expect(e.line).toBe(lineOf(read(name), lineRe));
    expect(e.oneLine).not.toContain('\n');
    expect(e.oneLine).toMatch(/nix flake lock/);
  });

  it.each([
    ['not an object', '[1,2]', /is not a JSON object/],
    ['no version', '{"nodes":{},"root":"root"}', /has no lock file version/],
    ['string version', '{"version":"7","nodes":{},"root":"root"}', /has no lock file version/],
    ['no nodes', '{"version":7,"root":"root"}', /has no "nodes" object/],
    ['no root key', '{"version":7,"nodes":{"root":{}}}', /has no "root" node key/],
    ['node not an object', '{"version":7,"root":"root","nodes":{"root":{"inputs":{"a":"a"}},"a":3}}', /node 'a' is not an object/],
    ['bad input target', '{"version":7,"root":"root","nodes":{"root":{"inputs":{"a":7}}}}', /input 'a' of node 'root' is neither a node key nor a follows path/],
    ['ref without type', '{"version":7,"root":"root","nodes":{"root":{"inputs":{"a":"a"}},"a":{"locked":{"url":"x"}}}}', /node 'a' has a "locked" reference without a "type"/],
    ['empty file', '', /is not valid JSON/],
  ])('%s', (_name, text, message) => {
    expect(() => parseLock(text, 'x/flake.lock')).toThrow(message);
  });

  it('a hostile node name stays data: the error is one line and names it', () => {
    const text = JSON.stringify({ version: 7, root: 'root', nodes: { root: { inputs: { 'a\n::error::pwned': 'gone' } } } });
    const e = (() => {
      try {
        parseLock(text);
      } catch (x) {
        return x as LockError;
      }
    })()!;
    expect(e.oneLine).not.toContain('\n');
    expect(e.oneLine).toContain("points to node 'gone'");
  });
});
