import { UserError } from '../errors.js';

/**
 * A thin GitHub REST client over fetch, for what the actions need (issue and
 * pull-request comments). The base URL comes from GITHUB_API_URL (GHES works);
 * the token is only ever put in the Authorization header.
 */
export class ApiError extends UserError {
  readonly status: number;
  constructor(method: string, path: string, status: number, body: string) {
    const message = (() => {
      try {
        return String(JSON.parse(body).message ?? '');
      } catch {
        return body.slice(0, 200);
      }
    })();
    super(`GitHub API ${method} ${path} answered ${status}${message ? `: ${message}` : ''}`, {
      hint: status === 401 || status === 403 || status === 404 ? 'Check that github-token has the permission this needs (pull-requests: write for comments)' : undefined,
    });
    this.name = 'ApiError';
    this.status = status;
  }
}

export interface Comment {
  id: number;
  body: string;
  html_url?: string;
  user?: { login?: string; type?: string };
}

export interface ApiOptions {
  token: string;
  /** e.g. https://api.github.com (GITHUB_API_URL). */
  baseUrl: string;
  userAgent?: string;
  fetch?: typeof fetch;
}

export class GitHubApi {
  private readonly options: ApiOptions;
  constructor(options: ApiOptions) {
    this.options = { ...options, baseUrl: options.baseUrl.replace(/\/$/, '') };
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<{ data: T; headers: Headers }> {
    const f = this.options.fetch ?? fetch;
    const res = await f(`${this.options.baseUrl}${path}`, {
      method,
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${this.options.token}`,
        'x-github-api-version': '2022-11-28',
        'user-agent': this.options.userAgent ?? 'vig-os/nix-actions',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    }).catch((e: unknown) => {
      throw new UserError(`GitHub API ${method} ${path} could not be reached: ${e instanceof Error ? (e.cause as Error)?.message ?? e.message : String(e)}`);
    });
    const text = await res.text();
    if (!res.ok) throw new ApiError(method, path, res.status, text);
    let data: T;
    try {
      data = (text ? JSON.parse(text) : undefined) as T;
    } catch {
      throw new UserError(`GitHub API ${method} ${path} answered ${res.status} with a body that is not JSON: ${text.slice(0, 100)}`);
    }
    return { data, headers: res.headers };
  }

  /** Every comment of an issue or pull request (follows pagination). */
  async listIssueComments(repo: string, issue: number): Promise<Comment[]> {
    const out: Comment[] = [];
    for (let page = 1; page <= 50; page++) {
      const { data } = await this.request<Comment[]>('GET', `/repos/${repo}/issues/${issue}/comments?per_page=100&page=${page}`);
      out.push(...data);
      if (data.length < 100) break;
    }
    return out;
  }

  async createIssueComment(repo: string, issue: number, body: string): Promise<Comment> {
    return (await this.request<Comment>('POST', `/repos/${repo}/issues/${issue}/comments`, { body })).data;
  }

  async updateIssueComment(repo: string, id: number, body: string): Promise<Comment> {
    return (await this.request<Comment>('PATCH', `/repos/${repo}/issues/comments/${id}`, { body })).data;
  }

  /**
   * One comment per marker, updated in place: finds the comment whose body
   * contains `marker` (a hidden HTML comment) and updates it, or creates it.
   * With `createIfMissing: false` only an existing comment is updated.
   */
  async upsertStickyComment(
    repo: string,
    issue: number,
    marker: string,
    body: string,
    options: { createIfMissing?: boolean } = {},
  ): Promise<{ action: 'created' | 'updated' | 'skipped'; comment?: Comment }> {
    const full = body.includes(marker) ? body : `${marker}\n${body}`;
    const existing = (await this.listIssueComments(repo, issue)).find((c) => c.body?.includes(marker));
    if (existing) return { action: 'updated', comment: await this.updateIssueComment(repo, existing.id, full) };
    if (options.createIfMissing === false) return { action: 'skipped' };
    return { action: 'created', comment: await this.createIssueComment(repo, issue, full) };
  }
}

/** `owner/name` checked, so it cannot smuggle path segments into an API URL. */
export function checkRepo(repo: string): string {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repo)) throw new UserError(`'${repo}' is not an owner/name repository`);
  return repo;
}
