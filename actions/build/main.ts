import { run } from '../../src/runner/index.js';
import { notImplemented } from '../../src/errors.js';
import { inputs } from './inputs.js';

void run(inputs, async () => {
  throw notImplemented('build');
});
