import { execFileSync } from 'node:child_process';
import { run, tail } from '../../src/process/run.js';

describe('run (external programs)', () => {
  it('passes arguments as an array: nothing is interpreted by a shell', async () => {
    const hostile = '$(touch /tmp/pwned); `id`; a && b | c > d';
    const r = await run('printf', ['%s', hostile]);
    expect(r).toMatchObject({ code: 0, stdout: hostile, timedOut: false });
  });

  it('redacts secrets from collected and streamed output', async () => {
    const lines: string[] = [];
    const r = await run('sh', ['-c', 'echo "token=$1"; echo "again $1" >&2', 'sh', 'hunter2-secret'], {
      redact: ['hunter2-secret'],
      onStderrLine: (l) => lines.push(l),
    });
    expect(r.stdout).toBe('token=***\n');
    expect(lines).toEqual(['again ***']);
  });

  it('a timeout kills the whole process group, even a grandchild holding the pipes', async () => {
    const started = Date.now();
    const r = await run('sh', ['-c', 'sleep 30 & echo $!; wait'], { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    const grandchild = r.stdout.trim();
    expect(grandchild).toMatch(/^\d+$/);
    // The grandchild is gone (ps prints nothing for it).
    let alive = '';
    try {
      alive = execFileSync('ps', ['-o', 'stat=', '-p', grandchild], { encoding: 'utf8' }).trim();
    } catch {
      alive = '';
    }
    expect(alive === '' || alive.startsWith('Z')).toBe(true);
  });

  it('a missing program is a user error naming it', async () => {
    await expect(run('no-such-program-here', [])).rejects.toThrow("'no-such-program-here' was not found on PATH");
  });

  it('tail keeps the last non-empty lines', () => {
    expect(tail('a\n\nb\nc\n\n', 2)).toBe('b\nc');
  });
});
