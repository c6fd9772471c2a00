// Command-line flag mistakes explained in our words. node:util's parseArgs
// reports an unknown flag with advice about positionals that start with
// '-', which misleads someone who simply misspelt a flag; here it becomes
// "unknown option --concurency (did you mean --concurrency?)".

import { parseArgs, type ParseArgsConfig } from 'node:util';

type FlagConfig = NonNullable<ParseArgsConfig['options']>;

/**
 * One line saying what is wrong with `argv`, for an error thrown by
 * parseArgs with these `options` (the message of any other error is kept).
 */
export function explainArgsError(
  err: unknown,
  argv: readonly string[],
  options: FlagConfig,
): string {
  const fallback = err instanceof Error ? err.message : String(err);
  // Parsing again without strictness yields every flag as a token, so the
  // offending one is found by name instead of by reading Node's message.
  let tokens;
  try {
    ({ tokens } = parseArgs({
      args: [...argv],
      options,
      allowPositionals: true,
      strict: false,
      tokens: true,
    }));
  } catch {
    return fallback;
  }
  for (const token of tokens) {
    if (token.kind === 'option-terminator') break;
    if (token.kind !== 'option') continue;
    const flag = token.rawName;
    const config = Object.hasOwn(options, token.name)
      ? options[token.name]
      : undefined;
    if (!config) {
      const near = closestFlag(token.name, Object.keys(options));
      const hint = near ? ` (did you mean --${near}?)` : '';
      return `unknown option ${flag}${hint}`;
    }
    if (config.type === 'boolean' && token.value !== undefined) {
      return `option ${flag} takes no value, got '${token.value}'`;
    }
    if (config.type === 'string' && token.value === undefined) {
      return `option ${flag} needs a value`;
    }
    if (
      config.type === 'string' &&
      !token.inlineValue &&
      token.value?.startsWith('-')
    ) {
      return (
        `option ${flag} needs a value, got the flag '${token.value}' ` +
        `(for a value that starts with '-', write ${flag}=${token.value})`
      );
    }
  }
  return fallback;
}

/** The known flag a misspelt one most likely meant, if any is close. */
function closestFlag(name: string, known: readonly string[]): string | null {
  const wanted = name.toLowerCase();
  // A cut-short flag (--conc) is far from its full name in edits.
  const extending = known.filter((k) => k.startsWith(wanted));
  if (wanted.length >= 3 && extending.length === 1) return extending[0]!;
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(wanted.length / 3)) + 1;
  for (const candidate of known) {
    const d = editDistance(wanted, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Edits (insert, delete, replace, swap of neighbours) from a to b. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0]![j] = j;
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(
        rows[i - 1]![j]! + 1,
        rows[i]![j - 1]! + 1,
        rows[i - 1]![j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
