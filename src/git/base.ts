import type { RunContext } from '../github/context.js';

/**
 * Which commit a change is compared with: an explicit `base` input wins; on a pull
 * request the base commit from the event; on a push the commit before it.
 * `undefined` sha means there is nothing to compare with (a new branch).
 */
export interface BaseChoice {
  /** Ref or SHA to resolve; undefined when there is no base. */
  ref?: string;
  /** How it was chosen, for the log and the report. */
  source: 'input' | 'pull-request' | 'push' | 'none';
  reason: string;
}

const ZERO = /^0+$/;

export function chooseBase(context: Pick<RunContext, 'eventName' | 'event'>, explicit?: string): BaseChoice {
  if (explicit) return { ref: explicit, source: 'input', reason: `the base input '${explicit}'` };
  const pr = context.event?.pull_request;
  if (pr?.base?.sha) {
    return { ref: String(pr.base.sha), source: 'pull-request', reason: `the pull request base ${pr.base.ref ?? ''} (${String(pr.base.sha).slice(0, 12)})`.replace(' ()', '') };
  }
  const before = context.event?.before;
  if (context.eventName === 'push' && typeof before === 'string' && before && !ZERO.test(before)) {
    return { ref: before, source: 'push', reason: `the commit before the push (${before.slice(0, 12)})` };
  }
  if (context.eventName === 'push' && typeof before === 'string' && ZERO.test(before)) {
    return { source: 'none', reason: 'the push created a new branch, so there is no earlier commit to compare with' };
  }
  return { source: 'none', reason: `a ${context.eventName || 'local'} event names no base: set the base input to compare with a branch or commit` };
}
