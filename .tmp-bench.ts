import { serverSuite } from './test/bench/server.bench.js';
const r = await serverSuite.run();
for (const x of r) console.log(x.name, x.value.toFixed(3), x.unit, 'baseline', x.baseline.toFixed(3), 'ratio', x.ratio.toFixed(2), x.goal ?? '', x.met ?? '');
