// A suite that works: one exact metric and one timing from fixed samples.
import { exact, timing } from '../../../src/bench/metrics.js';
import { defineSuite, runSuiteIfMain } from '../../../src/bench/suite.js';

const suite = defineSuite({
  name: 'fine',
  title: 'Fine fixture',
  async run(ctx) {
    ctx.progress('answering', 1, 1);
    return {
      metrics: [
        exact('fixture.answer', 42),
        timing('fixture.wait', [3, 4, 5], { ratioTo: { id: 'fixture.ref', samples: [1, 2, 5] } }),
      ],
      markdown: `Mode was ${ctx.mode}.`,
    };
  },
});

export default suite;
runSuiteIfMain(suite, import.meta.url);
