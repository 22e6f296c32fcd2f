/**
 * The logging surface the core writes to. The runner implements it with
 * @actions/core; tests and CLIs pass `consoleLog` or `silentLog`. Keeping this a
 * plain interface is what lets the core stay free of `@actions/*`.
 */
export interface Annotation {
  file?: string;
  line?: number;
  title?: string;
}

export interface Log {
  info(message: string): void;
  debug(message: string): void;
  notice(message: string, where?: Annotation): void;
  warning(message: string, where?: Annotation): void;
  error(message: string, where?: Annotation): void;
  /** Runs `fn` inside a collapsible group. */
  group<T>(title: string, fn: () => Promise<T>): Promise<T>;
}

export const silentLog: Log = {
  info() {},
  debug() {},
  notice() {},
  warning() {},
  error() {},
  group: (_title, fn) => fn(),
};

export const consoleLog: Log = {
  info: (m) => console.log(m),
  debug: (m) => {
    if (process.env.RUNNER_DEBUG === '1') console.log(`debug: ${m}`);
  },
  notice: (m) => console.log(`notice: ${m}`),
  warning: (m) => console.warn(`warning: ${m}`),
  error: (m) => console.error(`error: ${m}`),
  group: async (title, fn) => {
    console.log(`▸ ${title}`);
    return fn();
  },
};

/** A Log that records everything, for tests that assert what a user would read. */
export function recordingLog(): Log & { lines: { level: string; message: string; where?: Annotation }[] } {
  const lines: { level: string; message: string; where?: Annotation }[] = [];
  const push = (level: string) => (message: string, where?: Annotation) => {
    lines.push({ level, message, where });
  };
  return {
    lines,
    info: push('info'),
    debug: push('debug'),
    notice: push('notice'),
    warning: push('warning'),
    error: push('error'),
    group: async (title, fn) => {
      lines.push({ level: 'group', message: title });
      return fn();
    },
  };
}
