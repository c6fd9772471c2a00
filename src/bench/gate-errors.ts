// Errors the regression gate raises for input it cannot judge. The CLI
// turns every one of them into exit code 2 so CI can tell "the code got
// slower" (exit 1) apart from "the gate was fed something broken".

export type GateInputProblem =
  | 'not-found'
  | 'unreadable'
  | 'not-json'
  | 'schema-version'
  | 'bad-shape'
  | 'bad-option';

export class GateInputError extends Error {
  override readonly name = 'GateInputError';

  constructor(
    readonly problem: GateInputProblem,
    message: string,
  ) {
    super(message);
  }
}
