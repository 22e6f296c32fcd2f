import type { Log } from '../log.js';
import type { Nix } from '../nix/index.js';
import { UserError } from '../errors.js';
import { newSince, validOnly } from './snapshot.js';
import {
  applyFilter,
  cachixCli,
  installCachix,
  pushWithCachix,
  pushWithNixCopy,
  type PushPlan,
  type PushResult,
} from './push.js';

/**
 * One push, from a plan and a list of candidate paths, under a deadline. Returns the
 * result, or throws UserError with the reason; the caller decides whether that is
 * a warning (default) or a failed job (fail-on-push-error).
 */
export interface PushOptions {
  plan: PushPlan;
  filter?: RegExp;
  authToken?: string;
  signingKey?: string;
  env: NodeJS.ProcessEnv;
  deadline: number;
  log: Log;
}

export async function pushPaths(nix: Nix, candidates: readonly string[], o: PushOptions): Promise<PushResult> {
  const started = Date.now();
  const { kept, filtered } = applyFilter(candidates, o.filter);
  if (filtered > 0) {
    const keptSet = new Set(kept);
    for (const p of candidates) if (!keptSet.has(p)) o.log.debug(`push-filter leaves out ${p}`);
  }
  const result: PushResult = { mode: o.plan.mode, target: o.plan.target, pushed: [], offered: kept.length, filtered, seconds: 0 };
  if (o.plan.mode === 'none' || kept.length === 0) return finish(result, started);
  if (o.plan.mode === 'nix-copy') {
    if (o.plan.unsigned) o.log.warning(`Pushing to ${o.plan.target} unsigned (push: true without signing-key): Nix will only substitute these paths where require-sigs is off`);
    result.pushed = await o.log.group(`nix copy ${kept.length} path(s) to ${o.plan.target}`, () =>
      pushWithNixCopy(nix, kept, { to: o.plan.target, signingKey: o.plan.unsigned ? undefined : o.signingKey, deadline: o.deadline, onLog: (l) => o.log.info(l) }),
    );
  } else {
    let cli = await cachixCli(o.env);
    if (!cli) {
      o.log.info('The cachix CLI is not on PATH: installing it from cachix.org');
      await installCachix(nix, o.deadline);
      cli = await cachixCli(o.env);
      if (!cli) throw new UserError('the cachix CLI was installed but is not on PATH', { hint: 'Add ~/.nix-profile/bin to PATH' });
    }
    result.pushed = await o.log.group(`cachix push ${o.plan.target} (${kept.length} path(s))`, () =>
      pushWithCachix(cli!, o.plan.target, kept, {
        authToken: o.authToken,
        signingKey: o.signingKey,
        env: o.env,
        deadline: o.deadline,
        redact: [o.authToken, o.signingKey].filter((s): s is string => Boolean(s)),
      }),
    );
  }
  return finish(result, started);
}

function finish(r: PushResult, started: number): PushResult {
  r.seconds = Math.round((Date.now() - started) / 100) / 10;
  return r;
}

/** What the job added to the store since the snapshot, valid paths only. */
export async function newValidPaths(snapshotFile: string, env?: NodeJS.ProcessEnv, storeDir?: string): Promise<string[]> {
  return validOnly(newSince(snapshotFile, storeDir), env);
}
