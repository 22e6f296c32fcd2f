import { run } from '../../src/runner/index.js';
import { inputs } from './inputs.js';

// Nothing to do until the main step exists.
void run(inputs, async () => {}, { post: true });
