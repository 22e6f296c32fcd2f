import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

/**
 * What a step knows about the workflow run, read from the runner's environment.
 * A plain function over an env object so the core can use it and tests can fake it
 * without touching process.env.
 */
export interface RunContext {
  eventName: string;
  event: Record<string, any>;
  sha: string;
  ref: string;
  refName: string;
  repository: string; // owner/name
  actor: string;
  serverUrl: string;
  apiUrl: string;
  workspace: string;
  runnerTemp: string;
  runId: string;
}

export function readContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  let event: Record<string, any> = {};
  if (env.GITHUB_EVENT_PATH) {
    try {
      event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8'));
    } catch {
      event = {};
    }
  }
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    event,
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    refName: env.GITHUB_REF_NAME ?? '',
    repository: env.GITHUB_REPOSITORY ?? '',
    actor: env.GITHUB_ACTOR ?? '',
    serverUrl: (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/$/, ''),
    apiUrl: (env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/$/, ''),
    workspace: env.GITHUB_WORKSPACE ?? process.cwd(),
    runnerTemp: env.RUNNER_TEMP ?? tmpdir(),
    runId: env.GITHUB_RUN_ID ?? '',
  };
}
