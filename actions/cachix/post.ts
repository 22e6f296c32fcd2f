import { run } from '../../src/runner/index.js';
import { cachePost, type MainState } from '../../src/cache/steps.js';
import { inputs } from './inputs.js';
import { toCacheInputs } from './step-inputs.js';

// Pushes what the job added to the store; a failure is a warning unless fail-on-push-error.
void run(
  inputs,
  async (i, rt) => {
    const state = { mode: rt.getState('mode') || undefined, snapshot: rt.getState('snapshot') || undefined } as Partial<MainState>;
    const result = await cachePost(
      toCacheInputs(i),
      { env: rt.env, log: rt.log, runnerTemp: rt.context.runnerTemp, eventName: rt.context.eventName, event: rt.context.event },
      state,
    );
    rt.setOutput('pushed', result.outputs.pushed);
    rt.setOutput('push-mode', result.outputs['push-mode']);
    if (result.summary) await rt.summary(result.summary);
  },
  { post: true },
);
