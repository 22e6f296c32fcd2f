import { run } from '../../src/runner/index.js';
import { cachePost, type MainState } from '../../src/cache/steps.js';
import { inputs } from './inputs.js';
import { toCacheInputs } from './step-inputs.js';

// Pushes what the job added to the store; a failure is a warning unless fail-on-push-error.
// What was pushed goes to the job summary (and the log).
void run(
  inputs,
  async (i, rt) => {
    const state = { mode: rt.getState('mode') || undefined, snapshot: rt.getState('snapshot') || undefined } as Partial<MainState>;
    const result = await cachePost(
      toCacheInputs(i),
      { env: rt.env, log: rt.log, runnerTemp: rt.context.runnerTemp, eventName: rt.context.eventName, event: rt.context.event },
      state,
    );
    // No outputs here: a post step runs after every step of the job, so none could read them.
    if (result.summary) await rt.summary(result.summary);
  },
  { post: true },
);
