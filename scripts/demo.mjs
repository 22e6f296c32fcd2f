#!/usr/bin/env node
// The local demo of the pipeline on the bundled example flake. Grown by the
// release-pipeline work; until then it says so instead of pretending.
console.error('demo: the local pipeline demo is not implemented yet (see the open issues)');
process.exit(1);
