// Small constructors for metrics, so suites build them one way.

import type { ExactMetric, TimingMetric } from './results.js';
import { summarize } from './stats.js';

export function exact(
  id: string,
  value: ExactMetric['value'],
  extra: Partial<Pick<ExactMetric, 'unit' | 'label' | 'tags'>> = {},
): ExactMetric {
  return { kind: 'exact', id, value, ...extra };
}

/** A timing from samples measured elsewhere (e.g. by Python's timeit). */
export function timing(
  id: string,
  samples: number[],
  options: {
    unit?: TimingMetric['unit'];
    better?: TimingMetric['better'];
    label?: string;
    tags?: string[];
    ratioTo?: { id: string; samples: number[] };
  } = {},
): TimingMetric {
  const metric: TimingMetric = {
    kind: 'timing',
    id,
    unit: options.unit ?? 'ns',
    better: options.better ?? 'lower',
    samples,
    stats: summarize(samples, id),
  };
  if (options.label) metric.label = options.label;
  if (options.tags) metric.tags = options.tags;
  if (options.ratioTo) {
    const ref = options.ratioTo.samples;
    const ratios = samples.map((s, i) => s / ref[i]!);
    metric.ratio = {
      to: options.ratioTo.id,
      samples: ratios,
      stats: summarize(ratios, `${id} ratio`),
    };
  }
  return metric;
}

/** Stable id segment: letters, digits and dashes only. */
export function idPart(text: string): string {
  return text.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-|-$/g, '');
}
