// The regression gate's thresholds, with their defaults, in one place.
// They can be set in the `gate` section of a JSON config file and then
// overridden by command-line flags.

import { existsSync, readFileSync } from 'node:fs';

import { GateInputError } from './gate-errors.js';

/** Thresholds for one group of metrics. */
export interface GateThresholds {
  /**
   * Significance level. The one-sided Mann–Whitney U test on a metric's
   * round samples must give p below it, and the run-level prediction test
   * p below alpha / (number of gated metrics), so the whole gate raises a
   * false alarm on unchanged code at most about alpha of the time.
   * Default 0.01.
   */
  alpha: number;
  /**
   * Smallest relative change of the median ratio that counts as a
   * regression or an improvement, e.g. 0.1 = 10% worse. Changes smaller
   * than this pass even when significant: a benchmark that is merely
   * stable enough to see a 3% shift should not block a merge. Default 0.1.
   */
  minEffect: number;
}

/** Thresholds for metrics whose id starts with `prefix`. */
export interface GateOverride extends Partial<GateThresholds> {
  prefix: string;
}

export interface GateOptions extends GateThresholds {
  /**
   * Per-prefix thresholds for noisier or steadier metrics. The longest
   * matching prefix wins. Default none.
   */
  overrides: GateOverride[];
  /** Compare only metrics whose id starts with one of these. Default all. */
  only: string[];
  /**
   * Timing metrics whose id starts with one of these are shown but not
   * gated, e.g. third-party libraries measured for comparison. They do
   * not count toward the Bonferroni divisor. Default none.
   */
  informational: string[];
}

export const DEFAULT_GATE_OPTIONS: Readonly<GateOptions> = Object.freeze({
  alpha: 0.01,
  minEffect: 0.1,
  overrides: [],
  only: [],
  informational: [],
});

/** The config file read when `--config` is not given, if it exists. */
export const DEFAULT_CONFIG_FILE = 'duckqueue.config.json';

/** The thresholds that apply to one metric id. */
export function thresholdsFor(id: string, options: GateOptions): GateThresholds {
  let best: GateOverride | undefined;
  for (const override of options.overrides) {
    if (!id.startsWith(override.prefix)) continue;
    if (!best || override.prefix.length > best.prefix.length) best = override;
  }
  return {
    alpha: best?.alpha ?? options.alpha,
    minEffect: best?.minEffect ?? options.minEffect,
  };
}

/**
 * Reads the `gate` section of a config file. Returns {} when the file is
 * the default one and does not exist; a missing explicit file is an error.
 */
export function readGateConfig(
  file: string,
  explicit: boolean,
): Partial<GateOptions> {
  if (!existsSync(file)) {
    if (!explicit) return {};
    throw new GateInputError(
      'not-found',
      `config file ${file} does not exist; pass an existing file to ` +
        '--config or leave the flag out to use the defaults',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new GateInputError(
      'not-json',
      `config file ${file} is not valid JSON ` +
        `(${(err as Error).message}); fix the file or remove it`,
    );
  }
  if (!isObject(parsed)) {
    throw new GateInputError(
      'bad-option',
      `config file ${file} must hold a JSON object with a "gate" section`,
    );
  }
  if (parsed.gate === undefined) return {};
  return validateGateSection(parsed.gate, `${file}: gate`);
}

/** Checks a `gate` config object key by key, naming the first bad one. */
export function validateGateSection(
  value: unknown,
  where: string,
): Partial<GateOptions> {
  if (!isObject(value)) {
    throw new GateInputError('bad-option', `${where} must be an object`);
  }
  const out: Partial<GateOptions> = {};
  for (const [key, v] of Object.entries(value)) {
    // JSON has no comments: keys starting with '$' carry them.
    if (key.startsWith('$')) continue;
    switch (key) {
      case 'alpha':
        out.alpha = checkAlpha(v, `${where}.alpha`);
        break;
      case 'minEffect':
        out.minEffect = checkMinEffect(v, `${where}.minEffect`);
        break;
      case 'only':
        out.only = checkPrefixes(v, `${where}.only`);
        break;
      case 'informational':
        out.informational = checkPrefixes(v, `${where}.informational`);
        break;
      case 'overrides':
        out.overrides = checkOverrides(v, `${where}.overrides`);
        break;
      default:
        throw new GateInputError(
          'bad-option',
          `${where}.${key} is not a gate option; known options are ` +
            'alpha, minEffect, only, informational and overrides',
        );
    }
  }
  return out;
}

export function checkAlpha(value: unknown, where: string): number {
  if (typeof value !== 'number' || !(value > 0 && value < 1)) {
    throw new GateInputError(
      'bad-option',
      `${where} is ${JSON.stringify(value)}; it must be a number between ` +
        '0 and 1, e.g. 0.01',
    );
  }
  return value;
}

export function checkMinEffect(value: unknown, where: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 10)) {
    throw new GateInputError(
      'bad-option',
      `${where} is ${JSON.stringify(value)}; it must be a relative change ` +
        '>= 0, e.g. 0.1 for 10%',
    );
  }
  return value;
}

function checkPrefixes(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.some((p) => typeof p !== 'string')) {
    throw new GateInputError(
      'bad-option',
      `${where} must be a list of metric id prefixes, e.g. ["speed."]`,
    );
  }
  return value as string[];
}

function checkOverrides(value: unknown, where: string): GateOverride[] {
  if (!Array.isArray(value)) {
    throw new GateInputError(
      'bad-option',
      `${where} must be a list like [{ "prefix": "queue.", "minEffect": 0.2 }]`,
    );
  }
  return value.map((item, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(item) || typeof item.prefix !== 'string') {
      throw new GateInputError(
        'bad-option',
        `${at} needs a string "prefix" naming the metrics it applies to`,
      );
    }
    const override: GateOverride = { prefix: item.prefix };
    for (const key of Object.keys(item)) {
      if (!['prefix', 'alpha', 'minEffect'].includes(key)) {
        throw new GateInputError(
          'bad-option',
          `${at}.${key} is not an override option; use alpha or minEffect`,
        );
      }
    }
    if (item.alpha !== undefined) {
      override.alpha = checkAlpha(item.alpha, `${at}.alpha`);
    }
    if (item.minEffect !== undefined) {
      override.minEffect = checkMinEffect(item.minEffect, `${at}.minEffect`);
    }
    return override;
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
