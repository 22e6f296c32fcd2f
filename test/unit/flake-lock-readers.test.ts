import { lockedInputsOf } from '../../src/archive/flake.js';
import { flattenInputs, LockError, parseLock } from '../../src/flake/lock.js';
import { lockedInputs } from '../../src/sbom/index.js';

/**
 * sbom and archive read flake.lock (as `nix flake metadata --json` gives it) through
 * src/flake/lock.ts, the parser flake-diff uses: the same inputs, and the same
 * LockError for a lock that does not hold together.
 */
const gh = (repo: string, rev: string) => ({ type: 'github', owner: 'o', repo, rev: rev.repeat(40), narHash: `sha256-${rev}`, lastModified: 1 });

const LOCK = {
  version: 7,
  root: 'root',
  nodes: {
    root: { inputs: { nixpkgs: 'nixpkgs', utils: 'utils', systems: ['utils', 'systems'], devshell: 'devshell' } },
    nixpkgs: { locked: gh('nixpkgs', 'a') },
    utils: { inputs: { systems: 'systems', nixpkgs: ['nixpkgs'] }, locked: gh('flake-utils', 'b') },
    systems: { locked: { type: 'path', path: '/src/systems', narHash: 'sha256-c' } },
    devshell: { inputs: { nixpkgs: ['nixpkgs'], systems: ['systems'] }, locked: gh('devshell', 'd') },
    orphan: { locked: gh('orphan', 'e') },
  },
};

// `nix flake archive --json`: a tree by input name over the lock's node edges (not follows).
const ARCHIVE = {
  path: '/nix/store/00000000000000000000000000000000-source',
  inputs: {
    devshell: { path: '/nix/store/dddddddddddddddddddddddddddddddd-source', inputs: {} },
    nixpkgs: { path: '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-source', inputs: {} },
    utils: { path: '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-source', inputs: { systems: { path: '/nix/store/cccccccccccccccccccccccccccccccc-source' } } },
  },
};

const withNodes = (nodes: Record<string, unknown>, root = 'root') => ({ version: 7, root, nodes });

describe('sbom and archive read flake.lock with src/flake/lock.ts', () => {
  it('list the same inputs: each locked node once, under its first path in Nix flattened order, follows resolved not listed', () => {
    const expected = ['devshell', 'nixpkgs', 'utils', 'utils/systems'];
    expect(lockedInputs(LOCK).map((i) => i.inputPath)).toEqual(expected);
    const archived = lockedInputsOf(LOCK, ARCHIVE, 'path:/src/app');
    expect(archived.map((i) => i.input).sort()).toEqual(expected);
    // The same paths flake-diff sees, minus follows and repeats.
    const flat = flattenInputs(parseLock(JSON.stringify(LOCK)));
    expect(flat.filter((f) => !f.follows).map((f) => f.path.join('/'))).toEqual(expected);
    expect(flat.find((f) => f.path.join('/') === 'devshell/systems')?.node.key).toBe('systems'); // a follows of a follows

    expect(archived.find((i) => i.input === 'utils/systems')).toMatchObject({ node: 'systems', type: 'path', url: 'path:/src/systems', path: ARCHIVE.inputs.utils.inputs.systems.path });
    expect(archived.find((i) => i.input === 'nixpkgs')).toMatchObject({ node: 'nixpkgs', rev: 'a'.repeat(40), narHash: 'sha256-a', path: ARCHIVE.inputs.nixpkgs.path });
    expect(lockedInputs(LOCK).find((i) => i.inputPath === 'utils/systems')).toMatchObject({ type: 'path', url: 'path:/src/systems', narHash: 'sha256-c' });
  });

  const broken: [string, unknown, RegExp][] = [
    ['a follows cycle', withNodes({ root: { inputs: { a: ['b'], b: ['a'] } } }), /input 'a' follows a cycle/],
    ['a follows path that does not exist', withNodes({ root: { inputs: { a: ['nope', 'x'] } } }), /input 'a' follows 'nope\/x', which does not exist \(the root has no input 'nope'\)/],
    ['a node cycle', withNodes({ root: { inputs: { a: 'a' } }, a: { inputs: { b: 'b' }, locked: gh('a', 'a') }, b: { inputs: { a: 'a' }, locked: gh('b', 'b') } }), /makes a cycle through nodes root -> a -> b -> a/],
    ['an input to a node that is not there', withNodes({ root: { inputs: { a: 'ghost' } } }), /input 'a' of node 'root' points to node 'ghost', which does not exist/],
    ['a root that is not a node', withNodes({ x: {} }, 'root'), /names root node 'root', which is not in "nodes"/],
    ['an unsupported version', { version: 99, root: 'root', nodes: { root: {} } }, /has lock file version 99, which is not supported/],
  ];

  it.each(broken)('%s is the same LockError for both, naming the flake', (_what, lock, message) => {
    for (const read of [() => lockedInputs(lock, 'path:/src/app'), () => lockedInputsOf(lock, ARCHIVE, 'path:/src/app')]) {
      let error: unknown;
      try {
        read();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(LockError);
      expect((error as LockError).oneLine).toMatch(/^flake\.lock of path:\/src\/app(:\d+)?: /);
      expect((error as LockError).oneLine).toMatch(message);
    }
  });

  it('a flake with no lock has no inputs', () => {
    expect(lockedInputs(undefined)).toEqual([]);
    expect(lockedInputsOf(undefined, ARCHIVE, '.')).toEqual([]);
    expect(lockedInputs(withNodes({ root: {} }))).toEqual([]);
  });
});
