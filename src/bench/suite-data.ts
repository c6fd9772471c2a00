// The `data` each built-in suite puts in its SuiteResult, shared by the
// suite (which writes it) and its report page (which reads it).

export interface PythonRow {
  library: 'pickle' | 'cloudpickle';
  shape: string;
  status: 'works' | 'refused' | 'wrong';
  bytes?: number;
  /** Per-call nanoseconds, one per timeit round. */
  dumps?: number[];
  loads?: number[];
  error?: string;
  reason?: string;
}

export interface PythonReferenceData {
  versions: Record<string, string>;
  number: number;
  repeat: number;
  pickleProtocol: number;
  rows: PythonRow[];
}

export type RowStatus = 'works' | 'refused' | 'wrong' | 'unavailable';

/** One backend × function shape in the speed or size suite. */
export interface FunctionRow {
  backend: string;
  kind: 'ours' | 'peer';
  shape: string;
  shapeLabel: string;
  status: RowStatus;
  bytes?: number;
  error?: string;
  reason?: string;
  /** Metric ids of the timings, when the row was timed. */
  serializeId?: string;
  deserializeId?: string;
  /** Set when timing itself failed. */
  timingError?: string;
}

/** One data codec × payload. */
export interface DataRow {
  codec: string;
  codecLabel: string;
  payload: string;
  status: 'works' | 'wrong' | 'refused';
  bytes?: number;
  reason?: string;
  encodeId?: string;
  decodeId?: string;
  timingError?: string;
}

export interface PayloadInfoRow {
  id: string;
  source: string;
  jsonBytes: number;
}

export interface SpeedData {
  functionRows: FunctionRow[];
  dataRows: DataRow[];
  payloads: PayloadInfoRow[];
  backends: Array<{ id: string; label: string; kind: 'ours' | 'peer' }>;
  codecs: Array<{ id: string; label: string }>;
  shapes: Array<{ id: string; label: string }>;
  calibrationId: string;
  /** Run-time packages per backend, from package-lock.json. */
  dependencies: DependencyFootprint[];
}

/** One backend × real payload: a whole job call (function + argument). */
export interface CallSizeRow {
  backend: string;
  payload: string;
  status: RowStatus;
  bytes?: number;
  error?: string;
  reason?: string;
}

export interface SizeData {
  /** Function alone (no arguments), like pickle.dumps(f). */
  functionRows: FunctionRow[];
  callRows: CallSizeRow[];
  dataRows: DataRow[];
  payloads: PayloadInfoRow[];
  backends: Array<{ id: string; label: string; kind: 'ours' | 'peer' }>;
  codecs: Array<{ id: string; label: string }>;
  shapes: Array<{ id: string; label: string }>;
}

export interface QueueRow {
  store: string;
  mode: string;
  status: 'measured' | 'unavailable' | 'failed';
  jobsPerRound: number;
  metricId?: string;
  reason?: string;
}

export interface QueueData {
  rows: QueueRow[];
  rawMetricId: string;
  /** Rows the raw loop claims per statement (the worker's prefetch). */
  rawClaimBatch: number;
  jobsPerRound: number;
  rounds: number;
  targets: { jobsPerSecond: number; fractionOfRaw: number };
  /** Published figures of other queues, cited not measured. */
  peers: Array<{ name: string; figure: string; note: string }>;
}

export type CapabilityOutcome = 'works' | 'refused' | 'wrong' | 'unavailable';

/** One shape × backend cell of the capability matrix. */
export interface CapabilityCell {
  shape: string;
  backend: string;
  outcome: CapabilityOutcome;
  /** Error class for refusals and failures, e.g. 'NotSerializableError'. */
  error?: string;
  reason?: string;
  /** Where the refused value is, e.g. "captured variable 'socket'". */
  path?: string;
  bytes?: number;
  /** auto: the format used and why v8 was not. */
  format?: string;
  fallbackReason?: string;
}

export interface CapabilityData {
  shapes: Array<{ id: string; label: string }>;
  backends: Array<{ id: string; label: string; kind: 'ours' | 'peer' }>;
  cells: CapabilityCell[];
  /** How the cells were produced, for the page. */
  method: string;
  notes: string[];
}

/** Packages each backend brings in at run time, from package-lock.json. */
export interface DependencyFootprint {
  backend: string;
  /** Direct packages the backend uses (node: builtins not counted). */
  direct: string[];
  /** Size of the transitive closure of `direct` in package-lock.json. */
  transitive: number;
}
