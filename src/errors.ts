/**
 * Errors a user can cause (a bad input, a missing flake, a tampered download).
 * The runner prints them as one `::error` line, with file and line when known,
 * and never with a stack trace. Anything else is a bug and is reported as such.
 */
export class UserError extends Error {
  readonly file?: string;
  readonly line?: number;
  /** What the user can do about it; appended to the message. */
  readonly hint?: string;
  /** Extra detail (e.g. the tail of a Nix log) printed in a group, not in the one-line error. */
  readonly detail?: string;

  constructor(
    message: string,
    options: { file?: string; line?: number; hint?: string; detail?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UserError';
    this.file = options.file;
    this.line = options.line;
    this.hint = options.hint;
    this.detail = options.detail;
  }

  /** The one line a user sees. */
  get oneLine(): string {
    const text = this.hint ? `${this.message}. ${this.hint}` : this.message;
    return text.replace(/\s*\n\s*/g, ' ');
  }
}

/** Raised by an input that does not parse: names the input and what it accepts. */
export class InputError extends UserError {
  readonly input: string;
  constructor(input: string, message: string) {
    super(`Input '${input}': ${message}`);
    this.name = 'InputError';
    this.input = input;
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

/** What a not-yet-built action says, so no step can pass by doing nothing. */
export function notImplemented(action: string): UserError {
  return new UserError(`${action} is not implemented yet`, {
    hint: 'Pin an earlier release of vig-os/nix-actions or remove this step',
  });
}
