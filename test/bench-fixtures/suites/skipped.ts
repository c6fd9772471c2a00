// A suite that cannot run here and says why.
import { defineSuite, runSuiteIfMain } from '../../../src/bench/suite.js';

const suite = defineSuite({
  name: 'skipped',
  title: 'Skipped fixture',
  async run() {
    return { status: 'skipped', reason: 'fixture needs nothing; skipped on purpose', metrics: [] };
  },
});

export default suite;
runSuiteIfMain(suite, import.meta.url);
