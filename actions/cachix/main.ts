import { run } from '../../src/runner/index.js';
import { cacheMain } from '../../src/cache/steps.js';
import { inputs } from './inputs.js';
import { toCacheInputs } from './step-inputs.js';

void run(inputs, async (i, rt) => {
  const result = await cacheMain(toCacheInputs(i), {
    env: rt.env,
    log: rt.log,
    runnerTemp: rt.context.runnerTemp,
    eventName: rt.context.eventName,
    event: rt.context.event,
  });
  if (result.state) {
    rt.saveState('mode', result.state.mode);
    rt.saveState('snapshot', result.state.snapshot);
  }
  rt.setOutput('pushed', result.outputs.pushed);
  rt.setOutput('push-mode', result.outputs['push-mode']);
  await rt.summary(result.summary);
});
