import { UserError } from '../errors.js';
import type { Log } from '../log.js';
import type { RunContext } from '../github/context.js';
import { ApiError, GitHubApi, checkRepo } from '../github/api.js';
import { commentMarker, renderComment, type Report } from './report.js';

/**
 * The sticky pull-request comment. `auto` comments on pull requests when the token
 * can write, and steps aside with a notice when it cannot (fork pull requests,
 * a read-only token answering 403); `always` turns those into errors.
 */
export type CommentMode = 'auto' | 'always' | 'never';

export interface CommentResult {
  action: 'created' | 'updated' | 'skipped';
  reason?: string;
  url?: string;
}

export async function postComment(options: {
  mode: CommentMode;
  context: Pick<RunContext, 'event' | 'eventName' | 'repository' | 'apiUrl' | 'serverUrl' | 'runId'>;
  token?: string;
  report: Report;
  lockFiles: string[];
  log: Log;
}): Promise<CommentResult> {
  const { mode, context, log, report } = options;
  const skip = (reason: string, level: 'notice' | 'info' = 'notice'): CommentResult => {
    log[level](`No pull-request comment: ${reason}`);
    return { action: 'skipped', reason };
  };
  if (mode === 'never') return { action: 'skipped', reason: 'comment is never' };
  const pr = context.event?.pull_request;
  const number = Number(pr?.number);
  if (!pr || !Number.isInteger(number) || number <= 0) return skip(`a ${context.eventName || 'local'} event is not a pull request`, 'info');
  const baseRepo = String(pr.base?.repo?.full_name ?? context.repository);
  const headRepo = pr.head?.repo?.full_name;
  const fork = context.eventName === 'pull_request' && headRepo !== undefined && headRepo !== baseRepo;
  if (mode === 'auto' && fork) return skip(`the pull request comes from the fork ${headRepo}, whose token cannot write comments`);
  if (!options.token) {
    if (mode === 'always') throw new UserError('comment is always, but no github-token was given', { hint: 'Pass github-token with pull-requests: write' });
    return skip('no github-token');
  }
  const repo = checkRepo(baseRepo);
  const api = new GitHubApi({ token: options.token, baseUrl: context.apiUrl });
  const marker = commentMarker(options.lockFiles);
  const runUrl = context.runId ? `${context.serverUrl}/${repo}/actions/runs/${encodeURIComponent(context.runId)}` : undefined;
  const body = renderComment(report, marker, runUrl);
  // Nothing to say and no earlier comment to refresh: auto does not open a new thread.
  const createIfMissing = mode === 'always' || report.changed || report.violations > 0;
  try {
    const result = await api.upsertStickyComment(repo, number, marker, body, { createIfMissing });
    if (result.action === 'skipped') return skip('no lock change and no violation, and no earlier comment to update', 'info');
    log.info(`${result.action === 'created' ? 'Created' : 'Updated'} the pull-request comment ${result.comment?.html_url ?? ''}`.trim());
    return { action: result.action, url: result.comment?.html_url };
  } catch (e) {
    if (mode === 'auto' && e instanceof ApiError && (e.status === 403 || e.status === 404)) {
      return skip(`the token cannot write to ${repo} (HTTP ${e.status}); grant pull-requests: write to comment`);
    }
    throw e;
  }
}
