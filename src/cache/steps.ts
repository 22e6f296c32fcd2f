import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { Log } from '../log.js';
import { redact } from '../process/run.js';
import { Nix, pathInfo } from '../nix/index.js';
import { configureRead, type ReadResult } from './read.js';
import { forkOf, planPush, type PushPlan, type PushResult } from './push.js';
import { newValidPaths, pushPaths } from './run-push.js';
import { saveSnapshot } from './snapshot.js';
import { checkFilter, checkStoreUrl } from './validate.js';
import { readSummary, pushSummary } from './summary.js';

/**
 * The two steps of the cachix action as plain functions: the entrypoints only map
 * inputs in and outputs/state/summary out.
 */
export interface CacheInputs {
  name?: string;
  authToken?: string;
  signingKey?: string;
  push: 'auto' | 'true' | 'false';
  pushFilter?: string;
  extraPullNames: string[];
  substituter?: string;
  publicKey?: string;
  pushTo?: string;
  failOnPushError: boolean;
  pushTimeout: number;
  paths: string[];
}

export interface StepEnv {
  env: NodeJS.ProcessEnv;
  log: Log;
  runnerTemp: string;
  eventName: string;
  event: Record<string, any>;
}

/** What main hands to post through the runner's state. */
export interface MainState {
  mode: PushPlan['mode'];
  snapshot: string;
}

export interface StepResult {
  outputs: { pushed: number; 'push-mode': PushPlan['mode'] };
  summary: string;
  state?: MainState;
}

const secretsOf = (i: CacheInputs) => [i.authToken, i.signingKey].filter((s): s is string => Boolean(s));

/**
 * Every message the steps log or throw passes through here: the runner masks
 * secrets too, but the core does not rely on it (CLI use, tests, a URL that
 * carries a token).
 */
function redactingLog(log: Log, secrets: string[]): Log {
  const r = (m: string) => redact(m, secrets);
  return {
    info: (m) => log.info(r(m)),
    debug: (m) => log.debug(r(m)),
    notice: (m, w) => log.notice(r(m), w),
    warning: (m, w) => log.warning(r(m), w),
    error: (m, w) => log.error(r(m), w),
    group: (t, fn) => log.group(r(t), fn),
  };
}

async function redacted<T>(i: CacheInputs, s: StepEnv, fn: (s: StepEnv) => Promise<T>): Promise<T> {
  const secrets = secretsOf(i);
  try {
    return await fn({ ...s, log: redactingLog(s.log, secrets) });
  } catch (e) {
    if (e instanceof UserError) {
      throw new UserError(redact(e.message, secrets), { hint: e.hint && redact(e.hint, secrets), detail: e.detail && redact(e.detail, secrets), file: e.file, line: e.line });
    }
    throw e;
  }
}

async function detectNix(i: CacheInputs, s: StepEnv): Promise<Nix> {
  return Nix.detect({ env: s.env, log: s.log, redact: secretsOf(i) });
}

/** Validates the inputs both steps share, before anything runs. */
function checkInputs(i: CacheInputs): { filter?: RegExp } {
  if (i.pushTo) checkStoreUrl('push-to', i.pushTo);
  return { filter: checkFilter('push-filter', i.pushFilter ?? '') };
}

export function cacheMain(i: CacheInputs, s: StepEnv): Promise<StepResult> {
  return redacted(i, s, (s2) => main(i, s2));
}

/**
 * The post step never turns a green job red by accident: whatever goes wrong in it
 * (a push, Nix gone, the snapshot deleted, a bug) is one warning, unless the user
 * asked for fail-on-push-error.
 */
export function cachePost(i: CacheInputs, s: StepEnv, state: Partial<MainState>): Promise<StepResult> {
  return redacted(i, s, async (s2) => {
    try {
      return await post(i, s2, state);
    } catch (e) {
      if (i.failOnPushError) throw e;
      const what = e instanceof UserError ? e.oneLine : `unexpected failure (report it as a bug): ${(e as Error)?.message ?? e}`;
      s2.log.warning(`The cache post step did not push: ${what.split('\n')[0]} (the job continues: set fail-on-push-error: true to fail it)`);
      return { outputs: { pushed: 0, 'push-mode': (state.mode as PushPlan['mode']) ?? 'none' }, summary: '' };
    }
  });
}

async function main(i: CacheInputs, s: StepEnv): Promise<StepResult> {
  const { filter } = checkInputs(i);
  const plan = planPush({
    push: i.push,
    name: i.name,
    pushTo: i.pushTo,
    authToken: i.authToken,
    signingKey: i.signingKey,
    forkPr: forkOf(s.eventName, s.event),
  });
  const nix = await detectNix(i, s);
  const read: ReadResult = await configureRead(
    nix,
    {
      name: i.name,
      extraPullNames: i.extraPullNames,
      substituter: i.substituter,
      publicKey: i.publicKey,
      authToken: i.authToken,
      cachixApiUrl: s.env.CACHIX_API_URL,
    },
    s.env,
    s.log,
  );
  if (plan.readOnly) s.log.notice(plan.reason!);
  else if (plan.mode === 'none') s.log.info(`Not pushing: ${plan.reason}`);

  // The snapshot goes to a private directory under RUNNER_TEMP, named in the state.
  let snapshot = '';
  if (plan.mode !== 'none') {
    snapshot = join(mkdtempSync(join(s.runnerTemp, 'nix-actions-cachix-')), 'store-before.txt');
    const n = saveSnapshot(snapshot);
    s.log.debug(`store snapshot: ${n} paths in ${snapshot}`);
  } else if (i.paths.length > 0) {
    s.log.info(`Not pushing the ${i.paths.length} path(s) given in paths: nothing is pushed (see above)`);
  }
  let pushed: PushResult | undefined;
  if (i.paths.length > 0 && plan.mode !== 'none') {
    // Pushing now, when asked: the given paths (store paths or installables) and their closures.
    const infos = await pathInfo(nix, i.paths, { recursive: true });
    pushed = await guardedPush(nix, plan, infos.map((p) => p.path), i, s, filter);
  }
  const summary = redact(readSummary(read, plan) + (pushed ? pushSummary(pushed) : ''), secretsOf(i));
  return {
    outputs: { pushed: pushed?.pushed.length ?? 0, 'push-mode': plan.mode },
    summary,
    state: { mode: plan.mode, snapshot },
  };
}

async function post(i: CacheInputs, s: StepEnv, state: Partial<MainState>): Promise<StepResult> {
  const none = (why: string): StepResult => {
    s.log.info(why);
    return { outputs: { pushed: 0, 'push-mode': 'none' }, summary: '' };
  };
  if (!state.mode) return none('The main step did not finish, so there is nothing to push');
  if (state.mode === 'none' || !state.snapshot) return none('Not pushing (see the main step)');
  const { filter } = checkInputs(i);
  const plan = planPush({ push: i.push, name: i.name, pushTo: i.pushTo, authToken: i.authToken, signingKey: i.signingKey });
  const nix = await detectNix(i, s);
  const candidates = await newValidPaths(state.snapshot, s.env);
  s.log.info(`${candidates.length} new store path(s) since the main step`);
  const result = await guardedPush(nix, plan, candidates, i, s, filter);
  return { outputs: { pushed: result.pushed.length, 'push-mode': result.mode }, summary: redact(pushSummary(result), secretsOf(i)) };
}

/**
 * Runs a push under push-timeout. A failure is a warning annotation and the job
 * stays green, unless fail-on-push-error: then it is the step's error.
 */
async function guardedPush(
  nix: Nix,
  plan: PushPlan,
  candidates: string[],
  i: CacheInputs,
  s: StepEnv,
  filter?: RegExp,
): Promise<PushResult> {
  const deadline = Date.now() + i.pushTimeout * 1000;
  try {
    const r = await pushPaths(nix, candidates, {
      plan,
      filter,
      authToken: i.authToken,
      signingKey: i.signingKey,
      env: s.env,
      deadline,
      log: s.log,
    });
    s.log.info(`Pushed ${r.pushed.length} of ${r.offered} path(s) to ${r.target} (${r.filtered} filtered out, the rest already there)`);
    return r;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    const message = `Pushing to ${plan.target} failed: ${e.oneLine}`;
    if (i.failOnPushError) throw new UserError(message, { detail: e.detail });
    if (e.detail) await s.log.group('Push failure details', async () => s.log.info(e.detail!));
    s.log.warning(`${message} (the job continues: set fail-on-push-error: true to fail it)`);
    return { mode: plan.mode, target: plan.target, pushed: [], offered: candidates.length, filtered: 0, seconds: 0, error: e.oneLine };
  }
}
