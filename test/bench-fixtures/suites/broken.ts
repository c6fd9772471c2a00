// A suite whose run() throws: the runner must record it as failed.
import { defineSuite, runSuiteIfMain } from '../../../src/bench/suite.js';

const suite = defineSuite({
  name: 'broken',
  title: 'Broken fixture',
  async run() {
    throw new Error('broken fixture: measurement failed on purpose');
  },
});

export default suite;
runSuiteIfMain(suite, import.meta.url);
