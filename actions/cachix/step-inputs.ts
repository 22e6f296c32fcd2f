import type { Inputs } from '../../src/runner/inputs.js';
import type { CacheInputs } from '../../src/cache/steps.js';
import type { inputs } from './inputs.js';

/** Maps the action's inputs onto the core's plain shape (shared by main and post). */
export function toCacheInputs(i: Inputs<typeof inputs>): CacheInputs {
  return {
    name: i.name || undefined,
    authToken: i['auth-token'] || undefined,
    signingKey: i['signing-key'] || undefined,
    push: i.push,
    pushFilter: i['push-filter'] || undefined,
    extraPullNames: i['extra-pull-names'],
    substituter: i.substituter || undefined,
    publicKey: i['public-key'] || undefined,
    pushTo: i['push-to'] || undefined,
    failOnPushError: i['fail-on-push-error'],
    pushTimeout: i['push-timeout'],
    paths: i.paths,
  };
}
