import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './tools.js';

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};

export function git(cwd: string, ...args: string[]): string {
  requireTool('git', 'git');
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } }).trim();
}

/** A fresh repository on branch main, with an identity, in a temp dir. */
export function initRepo(dir = mkdtempSync(join(tmpdir(), 'nix-actions-git-'))): string {
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'commit.gpgsign', 'false');
  return dir;
}

export function commitAll(dir: string, message: string, date?: string): string {
  git(dir, 'add', '-A');
  if (date) {
    execFileSync('git', ['commit', '-q', '-m', message], {
      cwd: dir,
      env: { ...process.env, ...GIT_ENV, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
    });
  } else {
    git(dir, 'commit', '-q', '-m', message);
  }
  return git(dir, 'rev-parse', 'HEAD');
}
