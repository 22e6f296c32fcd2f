import * as core from '@actions/core';
import type { Annotation, Log } from '../log.js';
import { isUserError } from '../errors.js';
import { readContext, type RunContext } from '../github/context.js';
import { parseInputs, type InputSchema, type Inputs } from './inputs.js';

/**
 * The only adapter to the Actions runtime. Entrypoints receive typed inputs and a
 * Runtime; the core receives the Runtime's `log` (a plain interface) and returns
 * plain values for the entrypoint to turn into outputs and summaries.
 */
export interface Runtime {
  log: Log;
  context: RunContext;
  env: NodeJS.ProcessEnv;
  setOutput(name: string, value: string | number | boolean): void;
  /** Masks a value in every later log line. Call before anything can print it. */
  setSecret(value: string): void;
  saveState(name: string, value: string): void;
  getState(name: string): string;
  /** Appends Markdown to the job summary. */
  summary(markdown: string): Promise<void>;
  exportVariable(name: string, value: string): void;
  addPath(path: string): void;
  /** True in the post step. */
  isPost: boolean;
}

const toProps = (where?: Annotation): core.AnnotationProperties | undefined =>
  where ? { file: where.file, startLine: where.line, title: where.title } : undefined;

export const actionsLog: Log = {
  info: (m) => core.info(m),
  debug: (m) => core.debug(m),
  notice: (m, w) => core.notice(m, toProps(w)),
  warning: (m, w) => core.warning(m, toProps(w)),
  error: (m, w) => core.error(m, toProps(w)),
  group: (title, fn) => core.group(title, fn),
};

function runtime(isPost: boolean): Runtime {
  return {
    log: actionsLog,
    context: readContext(process.env),
    env: process.env,
    setOutput: (n, v) => core.setOutput(n, String(v)),
    setSecret: (v) => {
      if (v) core.setSecret(v);
    },
    saveState: (n, v) => core.saveState(n, v),
    getState: (n) => core.getState(n),
    summary: async (md) => {
      await core.summary.addRaw(md, true).write();
    },
    exportVariable: (n, v) => core.exportVariable(n, v),
    addPath: (p) => core.addPath(p),
    isPost,
  };
}

/** Reads this action's inputs from INPUT_* (masking secret ones first). */
export function readInputs<S extends InputSchema>(schema: S): Inputs<S> {
  for (const [name, spec] of Object.entries(schema)) {
    if (spec.type === 'string' && spec.secret) {
      const value = core.getInput(name);
      if (value) core.setSecret(value);
    }
  }
  return parseInputs(schema, (name) => core.getInput(name));
}

/**
 * Runs an action step. A user error becomes one `::error` line (with file and line
 * where known) and exit code 1; anything else is reported as a bug with the stack
 * only under debug.
 */
export async function run<S extends InputSchema>(
  schema: S,
  step: (inputs: Inputs<S>, rt: Runtime) => Promise<void>,
  options: { post?: boolean } = {},
): Promise<void> {
  try {
    const inputs = readInputs(schema);
    await step(inputs, runtime(options.post ?? false));
  } catch (error) {
    process.exitCode = 1;
    if (isUserError(error)) {
      if (error.detail) {
        core.startGroup('Details');
        core.info(error.detail);
        core.endGroup();
      }
      core.error(error.oneLine, error.file ? { file: error.file, startLine: error.line } : undefined);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    core.error(
      `Unexpected failure: ${message.split('\n')[0]} (re-run with debug logging for detail, and report it as a bug)`,
    );
    if (error instanceof Error && error.stack) core.debug(error.stack);
  }
}
