/**
 * The problems found in a manifest file and the error that reports them all.
 * @module
 */

/** One problem found in a manifest file. */
export interface ManifestIssue {
  /** The line (1-based) it is on. */
  readonly line: number;
  /** Where in its document, e.g. `spec.matches[0].routes[0].weight`; `''` for the document as a whole or a YAML syntax error. */
  readonly path: string;
  /** What is wrong, e.g. `unknown field` or `must be a string (quote it)`. */
  readonly message: string;
}

/**
 * Every problem found in a manifest file. The message has one line per problem, in the form
 * `file:line: path: message` (`line N: path: message` when no file name was given), e.g.
 * `services.yaml:7: spec.matches[0].routes[0].destination_selecter: unknown field`.
 */
export class ManifestError extends Error {
  /** Always `ManifestError`. */
  override readonly name = 'ManifestError';
  /** The problems, in the order of the file. */
  readonly errors: ManifestIssue[];
  /** The file name the problems are reported against, if one was given. */
  readonly fileName: string | undefined;

  constructor(errors: readonly ManifestIssue[], fileName?: string) {
    super(errors.map((issue) => formatIssue(issue, fileName)).join('\n'));
    this.errors = [...errors];
    this.fileName = fileName;
  }
}

/** One problem as a line of a {@link ManifestError}'s message. */
export function formatIssue(issue: ManifestIssue, fileName: string | undefined): string {
  const where = fileName === undefined ? `line ${issue.line}` : `${fileName}:${issue.line}`;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}
