// Every knob of a benchmark run, with the value for each mode, in one place.
// Quick mode is what CI and the regression gate run: short but with enough
// rounds for a statistical comparison. Full mode is what the committed
// reports come from.

export type BenchMode = 'quick' | 'full';

export interface TimingSettings {
  /** Rounds per metric; each round yields one sample and one ratio. */
  rounds: number;
  /** tinybench time budget per operation per round, in ms. */
  roundTimeMs: number;
  /** tinybench minimum calls per operation per round. */
  minIterations: number;
  /** Calls made before the first round and thrown away, in ms. */
  warmupMs: number;
}

export interface BenchSettings {
  mode: BenchMode;
  timing: TimingSettings;
  /** Payload ids the speed suite times ('all', or a shorter list). */
  speedPayloads: 'all' | string[];
  /**
   * Time Pulumi (milliseconds per call) on every shape, or only on the
   * lambda the reports cite. Its round trips are checked either way.
   */
  timeEveryPulumiShape: boolean;
  /** Jobs per round in the queue suite, and its rounds. */
  queueJobs: number;
  queueRounds: number;
  /** Jobs per round for DuckDB (0 = not run), far slower per row. */
  queueDuckdbJobs: number;
  /** Repetitions per timeit sample in the Python reference, and samples. */
  pythonNumber: number;
  pythonRepeat: number;
  /** A suite that runs longer than this is stopped and marked failed. */
  suiteTimeoutMs: number;
}

const SETTINGS: Record<BenchMode, BenchSettings> = {
  quick: {
    mode: 'quick',
    timing: { rounds: 8, roundTimeMs: 6, minIterations: 2, warmupMs: 10 },
    speedPayloads: ['push', 'mimeDb'],
    timeEveryPulumiShape: false,
    queueJobs: 1_000,
    queueRounds: 4,
    queueDuckdbJobs: 0,
    pythonNumber: 2_000,
    pythonRepeat: 7,
    suiteTimeoutMs: 150_000,
  },
  full: {
    mode: 'full',
    timing: { rounds: 15, roundTimeMs: 25, minIterations: 3, warmupMs: 80 },
    speedPayloads: 'all',
    timeEveryPulumiShape: true,
    queueJobs: 4_000,
    queueRounds: 8,
    queueDuckdbJobs: 300,
    pythonNumber: 10_000,
    pythonRepeat: 15,
    suiteTimeoutMs: 600_000,
  },
};

export function benchSettings(mode: BenchMode): BenchSettings {
  return SETTINGS[mode];
}

/** Environment variables the runner passes to each suite process. */
export const MODE_ENV = 'DUCKQUEUE_BENCH_MODE';
export const RESULT_FILE_ENV = 'DUCKQUEUE_BENCH_RESULT_FILE';
/** Points the runner at another suites folder (tests use a fixture one). */
export const SUITES_DIR_ENV = 'DUCKQUEUE_BENCH_SUITES_DIR';
