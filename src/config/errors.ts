// SPDX-License-Identifier: Apache-2.0

/** One thing wrong with the configuration. */
export interface ConfigProblem {
  /**
   * Where: a dotted key path (`skype.endpoints.msnp`, `permissions["@a:example.org"]`), `(root)`
   * for the top level, `(file)` when the file cannot be read, `(yaml)` for a syntax error, or the
   * environment variable's name.
   */
  path: string;
  /** What is wrong, for a human. Never contains a secret's value. */
  reason: string;
}

/**
 * The configuration cannot be used. `problems` lists every problem found (schema and semantic
 * together); `message` is one `path: reason` line per problem.
 */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], options?: ErrorOptions) {
    super(problems.map((p) => `${p.path}: ${p.reason}`).join("\n"), options);
    this.name = "ConfigError";
    this.problems = problems;
  }
}
