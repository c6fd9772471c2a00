// The design memo's headline figures for Python, quoted so the reports can
// set today's measurements beside them. These are citations, not results:
// the python-reference suite re-measures both libraries on this machine.

export const MEMO_FIGURES = {
  pickleBytes: 37,
  cloudpickleBytes: 557,
  /** Seconds for the memo's timing loop (its call count is not stated). */
  pickleSeconds: 0.003,
  cloudpickleSeconds: 0.062,
  /** cloudpickle / pickle as the memo states them. */
  sizeFactor: 557 / 37,
  timeFactor: 0.062 / 0.003,
} as const;
