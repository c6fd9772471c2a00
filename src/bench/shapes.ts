// The function shapes the speed and size suites serialize. They sit in a
// real module so that the v8 backend can find the exported ones by
// reference and the source backend can read their closures; the suites
// load this file natively (node --import tsx), never through a bundler.

import { createHash } from 'node:crypto';
import { chunk } from 'lodash-es';

/** A module function: what pickle would store as module + name. */
export function double(x: number): number {
  return x * 2;
}

/** A closure-free arrow that is not exported: a lambda. */
export function makeLambda(): (x: number) => number {
  return (x: number) => x * 2;
}

/** A closure over three values that also uses an import (node:crypto). */
export function makeClosure3(): (text: string) => string {
  const prefix = 'job';
  const rounds = 3;
  const options = { encoding: 'utf8' as const, upper: false };
  return (text: string) => {
    const data = `${prefix}:${rounds}:${text}`;
    const out = createHash('sha1').update(data, options.encoding).digest('hex');
    return options.upper ? out.toUpperCase() : out;
  };
}

/** A counter closure: mutable captured state. */
export function makeCounter(): () => number {
  let count = 0;
  return () => {
    count += 1;
    return count;
  };
}

/** A typical job over a webhook payload, exported by name. */
export function summarizeEvent(event: Record<string, unknown>): string {
  const repo = event['repository'] as { full_name?: string } | undefined;
  const sender = event['sender'] as { login?: string } | undefined;
  const action = typeof event['action'] === 'string' ? event['action'] : 'push';
  return `${repo?.full_name ?? '?'} ${action} by ${sender?.login ?? '?'}`;
}

export interface FunctionShape {
  /** Stable id used in metric ids. */
  id: string;
  label: string;
  /** A fresh function of this shape (closures get fresh state). */
  make: () => (...args: any[]) => unknown;
  args: unknown[];
}

export const FUNCTION_SHAPES: readonly FunctionShape[] = [
  {
    id: 'moduleFunction',
    label: 'module function',
    make: () => double,
    args: [21],
  },
  {
    id: 'lambda',
    label: 'closure-free arrow',
    make: makeLambda,
    args: [21],
  },
  {
    id: 'closure3',
    label: 'closure, 3 captures + import',
    make: makeClosure3,
    args: ['hello'],
  },
  {
    id: 'counter',
    label: 'counter closure',
    make: makeCounter,
    args: [],
  },
  {
    id: 'lodash',
    label: 'lodash-es chunk',
    make: () => chunk,
    args: [[1, 2, 3, 4, 5], 2],
  },
];
